-- Foundation: people, teams, services, incidents, roles, timeline, updates.
-- Timestamps are epoch milliseconds (UTC); ids are UUIDv7 text; JSON is text.
-- Keep in lockstep with migrations/sqlite/0001_foundation.sql.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0), ('timeline_seq', 0);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL,
    time_zone            TEXT NOT NULL,
    password_hash        TEXT,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    deactivated_at       BIGINT
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id  TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    team_id     TEXT REFERENCES teams (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    number          BIGINT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    public_state    TEXT NOT NULL,
    service_id      TEXT REFERENCES services (id),
    created_by      TEXT REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ack_due_at      BIGINT,
    acknowledged_at BIGINT,
    acknowledged_by TEXT REFERENCES users (id),
    resolved_at     BIGINT,
    resolved_by     TEXT REFERENCES users (id)
);
CREATE INDEX incidents_status_number ON incidents (status, number);
CREATE INDEX incidents_severity_number ON incidents (severity, number);

CREATE TABLE incident_roles (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    role          TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    assumed_at    BIGINT NOT NULL,
    released_at   BIGINT,
    assigned_by   TEXT REFERENCES users (id),
    released_by   TEXT REFERENCES users (id),
    handover_note TEXT
);
CREATE INDEX incident_roles_incident ON incident_roles (incident_id, assumed_at);
CREATE UNIQUE INDEX incident_roles_active ON incident_roles (incident_id, role, user_id)
    WHERE released_at IS NULL;

CREATE TABLE timeline_events (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          BIGINT NOT NULL,
    actor_id    TEXT REFERENCES users (id),
    actor_name  TEXT,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX timeline_events_incident ON timeline_events (incident_id, seq);

CREATE TABLE status_updates (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    audience     TEXT NOT NULL,
    state        TEXT NOT NULL,
    message      TEXT NOT NULL,
    author_id    TEXT REFERENCES users (id),
    published_at BIGINT NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates (incident_id, published_at);
