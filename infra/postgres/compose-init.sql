-- docker-compose only: the registry's own role and database (bin/veridis up creates them itself).
CREATE ROLE veridis_registry LOGIN PASSWORD 'veridis_registry';
CREATE DATABASE veridis_registry OWNER veridis_registry;
