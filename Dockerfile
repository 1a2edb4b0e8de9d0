# The co-handling gateway's image: the official Airflow image with the gateway's pinned
# dependencies and its code. The same image runs every component (scheduler, dag-processor,
# api-server, triggerer, Celery workers) and the release's migration job; the official Helm
# chart's values are in deploy/helm/values.yaml, the reasoning in deploy/helm/README.md.
#
#   docker build -t <registry>/cohandling-gateway:3.3.2-$(git rev-parse --short HEAD) .
#
# No secret enters the image: connections, keys and passwords come from Kubernetes Secrets
# at run time (deploy/helm/README.md). No HEALTHCHECK either: the chart probes each component
# its own way. tests/unit/test_deploy_files.py holds this file to the repository.

# The tag is the Airflow pin of requirements.in with the Python the project builds with.
FROM apache/airflow:3.3.2-python3.11

# The gateway's pins. Airflow is named with the base image's own version, so the install
# can never move it (requirements.txt pins the same 3.3.2): it only adds the gateway's
# packages and aligns the shared ones with the versions the test suite ran against.
COPY --chown=airflow:0 requirements.txt /tmp/gateway-requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/gateway-requirements.txt \
    && test "$(python -c 'import airflow; print(airflow.__version__)')" = "${AIRFLOW_VERSION}" \
    && rm /tmp/gateway-requirements.txt

ENV GATEWAY_HOME=/opt/airflow/gateway

# What the runtime imports or reads, and nothing else (no tests/, bench/, simulators/,
# forms/ samples, docs/ or var/; .dockerignore keeps the build context to the same list).
# tools/: the operator CLI only (`python -m tools.cli db upgrade` in the migration job).
# The pools (deploy/pools.json) are deployment configuration, not image content: the chart's
# migration job reads them from a ConfigMap (deploy/helm/README.md).
COPY --chown=airflow:0 dags/ ${GATEWAY_HOME}/dags/
COPY --chown=airflow:0 plugins/ ${GATEWAY_HOME}/plugins/
COPY --chown=airflow:0 console/ ${GATEWAY_HOME}/console/
COPY --chown=airflow:0 jobs/ ${GATEWAY_HOME}/jobs/
COPY --chown=airflow:0 transforms/ ${GATEWAY_HOME}/transforms/
COPY --chown=airflow:0 connectors/ ${GATEWAY_HOME}/connectors/
COPY --chown=airflow:0 expectations/ ${GATEWAY_HOME}/expectations/
COPY --chown=airflow:0 sql/ ${GATEWAY_HOME}/sql/
COPY --chown=airflow:0 reference/ ${GATEWAY_HOME}/reference/
COPY --chown=airflow:0 tools/__init__.py tools/cli.py tools/cli_audit.py ${GATEWAY_HOME}/tools/

# airflow.cfg's two deviations from Airflow's defaults, as environment: the chart mounts its
# own airflow.cfg, and the environment wins over it. The shared folders default to one mount
# point (the ReadWriteMany volume in the chart; a plain folder in the image otherwise).
ENV PYTHONPATH=${GATEWAY_HOME} \
    AIRFLOW__CORE__DAGS_FOLDER=${GATEWAY_HOME}/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=${GATEWAY_HOME}/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai \
    GATEWAY_OUTPUT_DIR=/opt/airflow/shared/runs \
    GATEWAY_REPORT_DIR=/opt/airflow/shared/reports \
    GATEWAY_REGISTRY_INBOX=/opt/airflow/shared/inbox/registry \
    GATEWAY_CHECKLIST_INBOX=/opt/airflow/shared/inbox/checklists \
    GATEWAY_AUDIT_SEAL_DIR=/opt/airflow/shared/seals \
    GATEWAY_SIGNING_KEY_FILE=/opt/airflow/secrets/signing/gateway-signing.pem \
    ARROW_DEFAULT_MEMORY_POOL=system

RUN mkdir -p /opt/airflow/shared/runs /opt/airflow/shared/reports \
        /opt/airflow/shared/inbox/registry /opt/airflow/shared/inbox/checklists \
    && python -c "import dags._common, jobs.common.settings, connectors.ledger, tools.cli"

USER airflow
WORKDIR ${GATEWAY_HOME}
