"""A file a member picks for a slash command's attachment option."""

from dataclasses import dataclass

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    """`slash("edit", {"image": Upload("cat.png", data)})`. With the default content type the emulator
    reads the type off the file (its name, or its bytes for an image), as Discord's client declares it;
    any other value is declared as given, as a modified client could."""

    filename: str
    data: bytes
    content_type: str = OCTET_STREAM
