"""Gunicorn settings for Vetted; each can be overridden on the command line."""
import multiprocessing
import os
import time

# Several workers share few cores: one compute thread per model per worker avoids threads fighting for cores
# (measured: with the libraries' default of one thread per core, three workers answered 20x slower).
os.environ.setdefault("OMP_NUM_THREADS", "1")

bind = os.environ.get("VETTED_BIND", "127.0.0.1:8000")
# One worker per core, each with enough threads that the questions it holds are encoded together: a batch costs
# the models far less per question than one question alone (BENCHMARKS.md, Throughput). Measured on 2 cores:
# 2 workers x 8 threads served 106-126 distinct questions a second, 2 x 2 served 70-94.
workers = int(os.environ.get("VETTED_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("VETTED_THREADS", 8))
# Each worker loads its own models and index after the fork: a preloaded torch/onnx session shared across
# forks is not safe, and the index catches up with the database on its own.
preload_app = False
timeout = 60
graceful_timeout = 20
accesslog = "-"
# Never log request headers: they carry API keys.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):
    """Warm the models and the index before the worker takes traffic, when VETTED_WARM_UP is set."""
    app = worker.wsgi
    if app.config.get("WARM_UP"):
        from kb import storage
        from suggest import engine

        started = time.monotonic()
        with storage.database(app).session() as s:
            generation = engine.engine(app).sync(s)
        worker.log.info("Worker %s is warm: KB generation %s indexed in %.1f s", worker.pid, generation,
                        time.monotonic() - started)
