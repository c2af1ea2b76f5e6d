"""Benchmark of the reminder sweep: due reminders sent by one Celery worker to a local
SMTP sink.

    .venv/bin/python -m bench.reminders [--count 10000] [--cadres 2000] [--timeout 300]

Copies the dataset of ``--cadres`` (the database ``bench/run.py`` builds with
``seed_scale``, itself reused or built) into ``<prefix>_rappels``; there, makes
exactly ``--count`` session reminders due (real rows of real sessions and people,
rendered with their template and calendar attachment) and cancels every other
pending row. Starts an SMTP sink (aiosmtpd) on loopback and one Celery worker (solo
pool, production settings, ``EMAIL_URL`` pointing at the sink, broker ``REDIS_URL``),
then queues the sweep (``accompagnement.tasks.send_due_notifications``) and times it
from the queuing to the last message received. Target: 10,000 reminders in under
30 s. Checks that every chosen row is marked sent and that the sink received that many
messages; the exit code is non-zero when the target is missed or a check fails.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.run import (
    PYTHON,
    ROOT,
    VAR,
    BenchError,
    admin_connection,
    database_url,
    ensure_database,
    env_for,
    log,
)

TARGET_SECONDS = 30.0


class Sink:
    """Counts the messages an SMTP client delivers, with the time of the last one."""

    def __init__(self):
        self.count = 0
        self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.count += 1
            self.last = time.perf_counter()
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(source, target, count):
    """A copy of the dataset where exactly ``count`` session reminders are due."""
    import psycopg

    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    with psycopg.connect(database_url(target)) as conn:
        conn.execute(
            "UPDATE accompagnement_notification SET statut = 'annulee' WHERE statut = 'en_attente'"
        )
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM accompagnement_notification "
                "WHERE kind LIKE 'session_rappel_%%' ORDER BY id LIMIT %s",
                [count],
            )
        ]
        if len(ids) < count:
            raise BenchError(
                f"le jeu de données n'a que {len(ids)} rappels de séance : augmentez --cadres"
            )
        conn.execute(
            "UPDATE accompagnement_notification SET statut = 'en_attente', attempts = 0, "
            "claimed_at = NULL, sent_at = NULL, due_at = now() - interval '1 minute' "
            "WHERE id = ANY(%s)",
            [ids],
        )
    return ids


def statuses(target, ids):
    """Status -> number of the chosen rows."""
    import psycopg

    with psycopg.connect(database_url(target)) as conn:
        return dict(
            conn.execute(
                "SELECT statut, count(*) FROM accompagnement_notification "
                "WHERE id = ANY(%s) GROUP BY statut",
                [ids],
            ).fetchall()
        )


def start_worker(env, log_path):
    log_file = open(log_path, "w")  # noqa: SIM115 (closed with the worker)
    process = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "bench-rappels@%h",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"le worker Celery s'est arrêté : voir {log_path}")
        if " ready." in log_path.read_text():
            return process, log_file
        time.sleep(0.5)
    raise BenchError(f"le worker Celery n'est pas prêt après 120 s : voir {log_path}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="rappels dus (10000)")
    parser.add_argument("--cadres", type=int, default=2_000, help="taille du jeu copié (2000)")
    parser.add_argument("--db-prefix", default="acc_bench", help="préfixe des bases (acc_bench)")
    parser.add_argument("--timeout", type=int, default=300, help="attente maximale (s)")
    args = parser.parse_args(argv)
    from aiosmtpd.controller import Controller
    from celery import Celery

    VAR.mkdir(parents=True, exist_ok=True)
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    worker = None
    try:
        source, _built = ensure_database(args.cadres, args.db_prefix, rebuild=False)
        target = f"{args.db_prefix}_rappels"
        log(f"copie de {source} dans {target}, {args.count} rappels dus")
        ids = prepare(source, target, args.count)
        env = env_for(
            target,
            REDIS_URL=redis_url,
            CELERY_TASK_ALWAYS_EAGER="false",
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
        )
        controller.start()
        # Tasks left in the queue by an earlier run would run against this database too.
        subprocess.run(
            [str(Path(PYTHON).with_name("celery")), "-A", "config", "purge", "-f"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        worker, log_file = start_worker(env, VAR / "worker-rappels.log")
        log(f"worker prêt (solo, 1 processus), puits SMTP sur le port {port}")
        # Queued straight on the broker (no Django start-up inside the timing).
        broker = Celery(broker=redis_url)
        started = time.perf_counter()
        broker.send_task("accompagnement.tasks.send_due_notifications")
        deadline = time.monotonic() + args.timeout
        while sink.count < args.count and time.monotonic() < deadline:
            time.sleep(0.2)
        if sink.count < args.count:
            time.sleep(2)  # the rest, if any, of a sweep that is finishing
        elapsed = (sink.last or time.perf_counter()) - started
        rows = statuses(target, ids)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"[bench] ÉCHEC : {error}", file=sys.stderr)
        return 1
    finally:
        if worker is not None:
            stop(worker)
            log_file.close()
        controller.stop()

    print()
    print("Balayage des rappels (accompagnement.tasks.send_due_notifications)")
    print(f"  rappels dus         : {args.count} (jeu de {args.cadres} cadres)")
    print(f"  messages reçus      : {sink.count}")
    print(f"  lignes choisies     : {rows}")
    print(f"  durée               : {elapsed:.1f} s (de la mise en file au dernier message)")
    if elapsed > 0:
        print(f"  débit               : {sink.count / elapsed:.0f} messages/s")
    ok_count = sink.count == args.count and rows.get("envoyee", 0) == args.count
    ok_time = ok_count and elapsed < TARGET_SECONDS
    print(f"  {'PASS' if ok_count else 'FAIL'}  chaque rappel envoyé une fois et marqué envoyé")
    print(f"  {'PASS' if ok_time else 'FAIL'}  en moins de {TARGET_SECONDS:.0f} s avec un worker")
    return 0 if ok_time else 1


if __name__ == "__main__":
    sys.exit(main())
