"""Path templates such as `/channels/{channel_id}/messages/{message_id}`, matched as Discord routes them:
a literal segment (`@me`, `@original`) wins over a parameter in the same place."""

import re
from collections.abc import Iterable


class PathTemplate:
    def __init__(self, template: str) -> None:
        self.template = template
        segments = template.strip("/").split("/")
        pattern = "".join(
            f"/(?P<{segment[1:-1]}>[^/]+)" if segment.startswith("{") else "/" + re.escape(segment)
            for segment in segments
        )
        self._regex = re.compile(pattern)
        # Sorting by this key puts literal segments first at the first place two templates differ.
        self.priority = tuple(segment.startswith("{") for segment in segments)

    def match(self, path: str) -> dict[str, str] | None:
        found = self._regex.fullmatch(path)
        return found.groupdict() if found else None


class TemplateIndex:
    """Finds the template that a concrete path belongs to."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._templates = sorted((PathTemplate(t) for t in set(templates)), key=lambda t: t.priority)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        for template in self._templates:
            params = template.match(path)
            if params is not None:
                return template.template, params
        return None
