"""Settings of the benchmark server: the production profile as deployed, plus the
constant view of ``bench.urls`` (the throughput limit every page is compared with).

Only ``bench/run.py`` uses them, on loopback: SECRET_KEY and ALLOWED_HOSTS come from
its environment like in production, and requests carry ``X-Forwarded-Proto: https``
as behind the load balancer, so that no production switch is turned off."""

from config.settings_production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
