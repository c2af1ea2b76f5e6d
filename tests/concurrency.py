"""Run the same call at the same moment from two threads, each with its own database
connection, as two users would (for tests marked ``django_db(transaction=True)``)."""

import threading

from django.core.exceptions import ValidationError
from django.db import connection


def race(call, args_list):
    """Call ``call(*args)`` for each ``args`` of ``args_list`` simultaneously. Returns
    ``(successes, refusals)``: the args that went through, and the ValidationErrors.
    Any other exception fails the test loudly."""
    barrier = threading.Barrier(len(args_list))
    outcomes = {}

    def run(index, args):
        try:
            barrier.wait(timeout=10)
            call(*args)
            outcomes[index] = "ok"
        except ValidationError as exc:
            outcomes[index] = exc
        except Exception as exc:  # reported below rather than lost in the thread
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, args)) for i, args in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == len(args_list), outcomes
    unexpected = [o for o in outcomes.values() if isinstance(o, str) and o != "ok"]
    assert not unexpected, unexpected
    successes = [args_list[i] for i, o in outcomes.items() if o == "ok"]
    refusals = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    return successes, refusals
