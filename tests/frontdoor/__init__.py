"""First run: generated secrets, the services' database role, the telegram credential."""
