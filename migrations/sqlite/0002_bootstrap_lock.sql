-- A row whose lock serialises the first-start bootstrap across nodes (see
-- app::user::bootstrap_admin). Keep in lockstep across both backends.
INSERT INTO counters (name, value) VALUES ('bootstrap', 0);
