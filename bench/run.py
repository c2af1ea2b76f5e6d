"""Benchmark of the main pages at two sizes of the dataset (``make bench``):

    .venv/bin/python -m bench.run [--sizes 2000,20000] [--duration 20] [--connections 4]
                                  [--workers 2] [--rebuild] [--no-mentoring]

For each size N: a PostgreSQL database ``<prefix>_<N>`` built by ``seed_scale --cadres
N`` (reused while its stamp, the N and a fingerprint of the generator and the
migrations, is unchanged), gunicorn with the production settings on loopback
(``bench.settings``: ``config.settings_production`` plus a constant view), then wrk
on each page in turn, signed in as the person the page is for (``bench/probe.py``).
Prints, per size, each page's throughput, its ratio to the constant view's measured
in the same run (before and after the pages: their mean), p50 and p95 latencies;
then the SQL queries of each page at every size. Results are also written to
``var/bench/results-<time>.json``. The exit code is non-zero only when the
measurement itself failed (a page not answering 200, wrk errors); the budgets are
read from the table.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VAR = ROOT / "var" / "bench"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
# Dummy production values: this server only ever listens on loopback.
SECRET_KEY = "bench-only-not-a-secret-9Qm4Xz7Lp2Vt8Rk6Hs3Nw5Jc1Bd0Fg"


class BenchError(Exception):
    pass


def log(message):
    print(f"[bench] {message}", flush=True)


def server_url():
    """The PostgreSQL server of DATABASE_URL (the databases of the bench sit beside)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return DEFAULT_SERVER
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def database_url(name):
    return server_url().rstrip("/") + "/" + name


def stamp(n):
    """What the dataset depends on: its size, the generator and the migrations."""
    digest = hashlib.sha256(str(n).encode())
    for path in [
        ROOT / "accompagnement" / "scale.py",
        ROOT / "accompagnement" / "management" / "commands" / "seed_scale.py",
        *sorted(ROOT.glob("*/migrations/0*.py")),
    ]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"seed_scale N={n} {digest.hexdigest()[:16]}"


def admin_connection():
    import psycopg

    return psycopg.connect(database_url("postgres"), autocommit=True)


def env_for(db_name, **extra):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db_name),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(VAR / "static"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def run(cmd, env, **kwargs):
    result = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} a échoué :\n{result.stdout}\n{result.stderr}")
    return result.stdout


def ensure_database(n, prefix, rebuild):
    """The database of size n, built if missing or stale; returns (name, build seconds
    or None when reused)."""
    name = f"{prefix}_{n}"
    wanted = stamp(n)
    with admin_connection() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        if row and row[0] == wanted and not rebuild:
            log(f"N={n}: base {name} réutilisée ({wanted})")
            return name, None
        log(f"N={n}: construction de la base {name}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = env_for(name, DJANGO_SETTINGS_MODULE="config.settings")
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    started = time.perf_counter()
    output = run([PYTHON, "manage.py", "seed_scale", "--cadres", str(n)], env)
    seconds = time.perf_counter() - started
    print(output, end="")
    with admin_connection() as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'")
    return name, seconds


def collectstatic():
    """The production storage serves hashed names from a manifest: build it unless it
    is newer than every static file of the project and the installed packages."""
    manifest = VAR / "static" / "staticfiles.json"
    if manifest.exists():
        sources = [ROOT / "pyproject.toml", ROOT / ".venv" / ".installed"]
        for folder in [ROOT / "static", *ROOT.glob("*/static")]:
            sources += [p for p in folder.rglob("*") if p.is_file()]
        newest = max(p.stat().st_mtime for p in sources if p.exists())
        if manifest.stat().st_mtime > newest:
            log("fichiers statiques à jour")
            return
    log("collectstatic (stockage de production, manifeste)")
    run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env_for("postgres"),
    )


class Server:
    """gunicorn on loopback with the production settings of ``bench.settings``."""

    def __init__(self, db_name, port, workers, n):
        self.port = port
        self.log_path = VAR / f"gunicorn-{n}.log"
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env_for(db_name),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn s'est arrêté : voir {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/sante/", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise BenchError(f"gunicorn ne répond pas sur le port {self.port} : voir {self.log_path}")

    def check(self, url, cookie):
        """The page answers 200 through the server, signed in (no redirect)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{url}",
            headers={"Cookie": cookie, "X-Forwarded-Proto": "https"}
            if cookie
            else {"X-Forwarded-Proto": "https"},
        )
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=120) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 200:
            raise BenchError(f"{url} a répondu {status} au serveur, pas 200")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(port, url, cookie, duration, connections):
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "bench" / "report.lua"),
        "-H",
        "X-Forwarded-Proto: https",
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{url}")
    output = subprocess.run(cmd, text=True, capture_output=True, check=True).stdout
    line = next((ln for ln in output.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError(f"sortie de wrk illisible :\n{output}")
    figures = json.loads(line.removeprefix("WRKJSON "))
    if figures["status_errors"] or figures["socket_errors"]:
        raise BenchError(f"wrk sur {url} : erreurs {figures}")
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def measure_size(n, args):
    db_name, built = ensure_database(n, args.db_prefix, args.rebuild)
    probe = json.loads(run([PYTHON, "-m", "bench.probe"], env_for(db_name)))
    server = Server(db_name, args.port, args.workers, n)
    results = {}
    try:
        for page in probe.values():
            server.check(page["url"], page["cookie"])
        bare = probe["bare"]
        order = ["bare", *[k for k in probe if k != "bare"], "bare_after"]
        for key in order:
            page = bare if key == "bare_after" else probe[key]
            # A short warm-up: imports, templates and connections of every worker.
            wrk(args.port, page["url"], page["cookie"], 2, args.connections)
            figures = wrk(args.port, page["url"], page["cookie"], args.duration, args.connections)
            results[key] = figures
            log(
                f"N={n} {page['label']}: {figures['rps']:.1f} req/s, "
                f"p95 {figures['p95_us'] / 1000:.0f} ms"
            )
    finally:
        server.stop()
    limit = (results["bare"]["rps"] + results.pop("bare_after")["rps"]) / 2
    pages = {}
    for key, page in probe.items():
        figures = results[key]
        pages[key] = {
            "label": page["label"],
            "url": page["url"],
            "visitor": page["visitor"],
            "queries": page["queries"],
            "rps": round(figures["rps"], 1),
            "ratio": figures["rps"] / limit,
            "p50_ms": figures["p50_us"] / 1000,
            "p95_ms": figures["p95_us"] / 1000,
            "p99_ms": figures["p99_us"] / 1000,
        }
    return {"n": n, "database": db_name, "build_seconds": built, "bare_rps": limit, "pages": pages}


def print_tables(sizes, args):
    for size in sizes:
        built = size["build_seconds"]
        print()
        print(
            f"N = {size['n']} cadres (base {size['database']}"
            + (f", construite en {built:.0f} s" if built is not None else ", réutilisée")
            + f") – {args.duration} s par page, {args.connections} connexions, "
            f"{args.workers} workers gunicorn"
        )
        print(f"  {'page':<30} {'req/s':>8} {'ratio':>7} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5}")
        print("  " + "-" * 70)
        for page in size["pages"].values():
            print(
                f"  {page['label']:<30} {page['rps']:>8.1f} {page['ratio']:>6.0%} "
                f"{page['p50_ms']:>8.1f} {page['p95_ms']:>8.1f} {page['queries']:>5}"
            )
        print("  (vue constante : moyenne des mesures avant et après les pages)")
    if len(sizes) > 1:
        print()
        print("Requêtes SQL par page selon la taille")
        header = "".join(f"{'N=' + str(s['n']):>10}" for s in sizes)
        print(f"  {'page':<30}{header}  identiques")
        for key, page in sizes[0]["pages"].items():
            counts = [s["pages"][key]["queries"] for s in sizes]
            same = "oui" if len(set(counts)) == 1 else "NON"
            print(f"  {page['label']:<30}" + "".join(f"{c:>10}" for c in counts) + f"  {same}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="2000,20000", help="tailles N, séparées par des virgules"
    )
    parser.add_argument("--duration", type=int, default=20, help="secondes de mesure par page")
    parser.add_argument("--connections", type=int, default=4, help="connexions simultanées de wrk")
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db-prefix", default="acc_bench", help="préfixe des bases (acc_bench)")
    parser.add_argument("--rebuild", action="store_true", help="reconstruire les bases")
    parser.add_argument(
        "--no-mentoring", action="store_true", help="sans le benchmark d'appariement du mentorat"
    )
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error(f"--sizes attend des nombres séparés par des virgules, pas « {args.sizes} »")
    if shutil.which("wrk") is None:
        parser.error("wrk est introuvable : installez-le (apt-get install -y wrk)")
    VAR.mkdir(parents=True, exist_ok=True)
    log(f"{platform.node()}: {os.cpu_count()} CPU, Python {platform.python_version()}")
    results = []
    try:
        collectstatic()
        for n in sizes:
            results.append(measure_size(n, args))
    except (BenchError, subprocess.CalledProcessError) as error:
        print_tables(results, args)  # the sizes measured before the failure
        print(f"[bench] ÉCHEC : {error}", file=sys.stderr)
        return 1
    print_tables(results, args)
    path = VAR / f"results-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"args": vars(args), "sizes": results}, indent=2))
    print(f"\nRésultats : {path.relative_to(ROOT)}")
    if not args.no_mentoring:
        print("\nBenchmark d'appariement du mentorat (bench/mentoring.py)", flush=True)
        status = subprocess.run([PYTHON, "-m", "bench.mentoring"], cwd=ROOT).returncode
        print(f"(code de sortie {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
