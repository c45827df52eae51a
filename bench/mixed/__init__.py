"""The parts of `bench.soak`: `ops` (the operations and their checks), `record` (their
outcomes per window), `sampler` (processes, Redis and PostgreSQL at one moment), `growth` (does
a reading level off) and `report` (the tables). The system itself is `bench.overhead.system`'s.
"""
