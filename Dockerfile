# atlantis-py with a pinned terraform. Build: docker build -t atlantis-py .
FROM python:3.11-slim

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG TERRAFORM_VERSION=1.11.4
# set by BuildKit for each target platform; amd64 when it is not
ARG TARGETARCH
# the zip is checked against HashiCorp's SHA256SUMS before it is unpacked
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl unzip \
      libatomic1 libstdc++6 \
 && cd /tmp \
 && TARGETARCH="${TARGETARCH:-amd64}" \
 && curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip" \
 && curl -fsSLO "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_SHA256SUMS" \
 && grep " terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip\$" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" | sha256sum -c - \
 && unzip "terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip" -d /usr/local/bin terraform \
 && rm "terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip" "terraform_${TERRAFORM_VERSION}_SHA256SUMS" \
 && apt-get purge -y curl unzip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 atlantis
WORKDIR /app
COPY pyproject.toml README.md ./
COPY atlantis_py ./atlantis_py
RUN pip install --no-cache-dir '.[postgres]'

USER atlantis
ENV ATLANTIS_DATA_DIR=/home/atlantis/data
EXPOSE 4141
# no curl in the image: Python asks /healthz (on the port ATLANTIS_PORT names)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ATLANTIS_PORT', '4141') + '/healthz', timeout=4)"]
ENTRYPOINT ["atlantis-py"]
CMD ["server"]
