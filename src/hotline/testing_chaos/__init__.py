"""A seeded fault harness between two real nodes: the line must stay true under every fault.

Two ``hotline serve`` processes (``us`` and ``ru``) talk over mutual TLS, each through a
TCP proxy that stands in for it: the address on a node's card is its proxy's port, so the
peer's courier, link tests and checkpoint exchanges all pass through it (TLS goes through
untouched: the proxy only moves bytes). While operators send messages of every precedence
through the API (FLASH ones held and approved by a second officer) and the receiving
officers acknowledge them, the harness

- cuts a direction (open connections closed, new ones refused), delays it (bytes held
  N ms), or lets requests through but drops the answers (the connection is closed before
  the first byte of the answer reaches the client), then heals it;
- SIGKILLs either node and restarts it (one at a time, each restart complete before the
  next fault: a killed node that never came back would test nothing);
- steps one node's clock ±N s through the test clock (``HOTLINE_CLOCK_OFFSET_FILE``) and
  back.

Every choice comes from one seed, printed with the summary, so a run can be replayed
(the same plan of faults and load; the machine's timing still varies). After the faults it
heals everything, waits for the line to drain (with a generous deadline) and checks the
invariants: see :class:`Findings`. ``benchmarks/chaos.py`` runs it at any scale from the
command line; ``tests/e2e/test_chaos.py`` runs a small scale in the suite.

It lives in the package, beside :mod:`hotline.testing`, so that the benchmark (a script)
and the suite import the same code without path tricks. Nothing of the running node
imports it; it reads the databases only through the node's own services, after the
processes have stopped.

Modules: ``proxy`` (the TCP proxy), ``plan`` (scale, seed, the faults drawn from it),
``pair`` (the two nodes behind their proxies), ``load`` (senders, acknowledging officers,
the state observer), ``checks`` (the invariants), ``findings`` (counts, examples, the
summary), ``run`` (one whole run).
"""

from hotline.testing_chaos.findings import INVARIANTS, Findings
from hotline.testing_chaos.pair import ChaosPair, databases_for, make_pair
from hotline.testing_chaos.plan import ChaosConfig, Fault, plan_faults
from hotline.testing_chaos.proxy import LinkProxy
from hotline.testing_chaos.run import run_chaos

__all__ = [
    "INVARIANTS",
    "ChaosConfig",
    "ChaosPair",
    "Fault",
    "Findings",
    "LinkProxy",
    "databases_for",
    "make_pair",
    "plan_faults",
    "run_chaos",
]
