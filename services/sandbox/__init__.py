"""The sandbox service: runs shell commands for the workers, holding no secret of AION's."""
