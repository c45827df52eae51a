"""The owner's files: text extraction (in a child process with limits) and attaching files to a
chat message."""
