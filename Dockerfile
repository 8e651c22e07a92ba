# The course in a container: JupyterLab on 8888 (opens on the exercises),
# TensorBoard on 6006, running as a non-root user.
#
#   docker build -t drl-course --build-arg UID=$(id -u) --build-arg GID=$(id -g) .
#   docker run --rm -p 8888:8888 -p 6006:6006 -v "$PWD/exercises:/home/student/course/exercises" drl-course
#
# Two stages on the same base, pinned by tag to the Python that requirements-lock.txt was
# made with (the course supports 3.11-3.13). The first builds the Python environment in /opt/venv and trims it; the second
# copies that environment onto a clean base, so the tools used to trim it stay behind.
FROM python:3.11.7-slim-bookworm AS env

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# strip, for this stage only
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# What a student uses: the package's runtime dependencies, its `instructor` extra (course
# check, course doctor) and its `lab` extra (JupyterLab), by the names in pyproject.toml,
# at the exact versions of the lock, which is a constraints file here (-c): what only the
# `dev` extra brings stays out. Only these two files are copied, so editing the course
# does not reinstall TensorFlow.
COPY pyproject.toml requirements-lock.txt /tmp/env/
RUN cd /tmp/env \
    && python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['instructor'] + p['optional-dependencies']['lab']))" > student-requirements.txt \
    && pip install -c requirements-lock.txt -r student-requirements.txt \
    && rm -rf /tmp/env

# Trim TensorFlow where no student looks: its C++ headers (for compiling custom ops,
# about 430 MB) and the symbol tables of its shared libraries (about 270 MB; strip keeps
# the dynamic symbols they link by). Then check that it still imports and trains.
RUN tf=/opt/venv/lib/python3.11/site-packages/tensorflow \
    && rm -rf "$tf/include" \
    && find "$tf" -type f \( -name '*.so' -o -name '*.so.*' \) -exec strip --strip-unneeded {} + \
    && python -c "import numpy as np, keras; m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]); m.compile('adam', 'mse'); m.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0); print('TensorFlow imports and trains')"

# The standard tensorflow wheel logs "cudart_stub.cc ... Could not find cuda drivers" from
# C++ while it is imported, before TF_CPP_MIN_LOG_LEVEL applies (CUDA_VISIBLE_DEVICES does
# not stop it either), and the kernel forwards such low-level output into the notebook.
# The kernel sends it to the container's log instead (what `docker run` prints); Python's
# own output, warnings and errors still show in the notebook.
RUN mkdir -p /opt/venv/etc/ipython \
    && echo "c.IPKernelApp.capture_fd_output = False" > /opt/venv/etc/ipython/ipython_kernel_config.py


FROM python:3.11.7-slim-bookworm

ARG UID=1000
ARG GID=1000

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    TF_ENABLE_ONEDNN_OPTS=0 \
    SDL_VIDEODRIVER=dummy

# A user whose ids can match yours, so files in a mounted folder stay yours.
RUN groupadd --gid "${GID}" student \
    && useradd --uid "${UID}" --gid "${GID}" --create-home --shell /bin/bash student

# The environment belongs to the student, so `pip install` in a notebook works.
COPY --from=env --chown=student:student /opt/venv /opt/venv

WORKDIR /home/student/course
COPY --chown=student:student . .
RUN pip install --no-deps --no-build-isolation -e . \
    && mkdir -p exercises runs \
    && chown -R student:student /home/student

USER student

EXPOSE 8888 6006

CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/home/student/course/exercises"]
