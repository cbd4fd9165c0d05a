-- Bumped after every committed write; report caches are valid for one value of it.
CREATE SEQUENCE write_generation;
