"""The parts of `bench.chat_overhead`, one concern per module.

`common` (names shared by all), `streams` (reading one SSE answer), `client` (sending chats
both ways), `cpu` (process CPU readings), `stats` (figures of a series of batches), `batches`
(running a batch and a cell), `system` (starting and stopping what is measured), `runner`
(running a benchmark against it, also for `bench.soak`) and `report` (the tables).
`bench/chat_overhead.py` parses the arguments and runs the whole.
"""
