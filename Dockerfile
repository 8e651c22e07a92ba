# The course in a container: JupyterLab on 8888 (opens on the exercises),
# TensorBoard on 6006, running as a non-root user.
#
#   docker build -t drl-course --build-arg UID=$(id -u) --build-arg GID=$(id -g) .
#   docker run --rm -p 8888:8888 -p 6006:6006 -v "$PWD/exercises:/home/student/course/exercises" drl-course
#
# The base is pinned by tag to the Python that requirements-lock.txt was made with.
FROM python:3.11.7-slim-bookworm

ARG UID=1000
ARG GID=1000

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    TF_ENABLE_ONEDNN_OPTS=0 \
    SDL_VIDEODRIVER=dummy

# A user whose ids can match yours, so files in a mounted folder stay yours.
RUN groupadd --gid "${GID}" student \
    && useradd --uid "${UID}" --gid "${GID}" --create-home --shell /bin/bash student

WORKDIR /home/student/course

# Dependencies first (from the exact lock), so editing the course does not reinstall them.
COPY requirements-lock.txt ./
RUN pip install -r requirements-lock.txt

COPY --chown=student:student . .
RUN pip install --no-deps --no-build-isolation -e . \
    && mkdir -p exercises runs \
    && chown -R student:student /home/student

USER student

EXPOSE 8888 6006

CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/home/student/course/exercises"]
