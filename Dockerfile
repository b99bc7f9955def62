# atlantis-py with a pinned terraform. Build: docker build -t atlantis-py .
FROM python:3.11-slim

ARG TERRAFORM_VERSION=1.11.4
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl unzip \
      libatomic1 libstdc++6 \
 && curl -fsSLo /tmp/tf.zip \
      "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip" \
 && unzip /tmp/tf.zip -d /usr/local/bin terraform \
 && rm /tmp/tf.zip \
 && apt-get purge -y curl unzip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 atlantis
WORKDIR /app
COPY pyproject.toml README.md ./
COPY atlantis_py ./atlantis_py
RUN pip install --no-cache-dir '.[postgres]'

USER atlantis
ENV ATLANTIS_DATA_DIR=/home/atlantis/data
EXPOSE 4141
ENTRYPOINT ["atlantis-py"]
CMD ["server"]
