# The GPU worker: `imagine-worker`, with the CUDA build of torch. The CUDA libraries come inside
# torch's wheels; the host needs only the NVIDIA driver and the NVIDIA Container Toolkit.
# Built by docker-compose.yml (`docker compose build worker`), from the repository root as context.
FROM python:3.11-slim

# torch and its torchvision (for the upscalers' spandrel) first, from PyTorch's index for one CUDA
# version, so the worker extra's `torch>=2.4` is already met and pip pulls no other build. TORCH_INDEX is that index's base address (the README
# gives it); TORCH_CUDA picks the build (cu126, cu128, cu130, ...: one your driver supports). Left
# empty, torch comes from the default index, whose Linux x86_64 wheels are CUDA builds too.
ARG TORCH_VERSION=2.13.0
ARG TORCHVISION_VERSION=0.28.0
ARG TORCH_CUDA=cu128
ARG TORCH_INDEX=

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    HF_HOME=/cache/huggingface \
    IMAGINE_MODEL_CACHE=/cache/imagine

RUN if [ -n "$TORCH_INDEX" ]; then \
        pip install --index-url "$TORCH_INDEX/$TORCH_CUDA" \
            "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"; \
    else \
        pip install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"; \
    fi

# The source is mounted for the install only, so the image holds the installed package, not the tree;
# the install puts the `imagine-worker` script on PATH (/usr/local/bin).
RUN --mount=type=bind,target=/src,rw \
    pip install "/src[worker,superres]"

# /cache is where docker-compose.yml mounts the hf-cache volume; a new volume takes this owner.
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin imagine \
    && mkdir -p /cache/huggingface /cache/imagine \
    && chown -R imagine:imagine /cache
USER imagine
WORKDIR /home/imagine

CMD ["imagine-worker"]
