-- On-call schedules: the schedule, its versions (layers as JSON, each in force from an
-- effective instant), its overrides, the role schedules of teams and services, secret
-- calendar feed tokens, and the incident's understaffed flag.
-- Keep in lockstep with migrations/sqlite/0004_schedules.sql.

CREATE TABLE schedules (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    time_zone   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE schedule_versions (
    schedule_id    TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    effective_from BIGINT NOT NULL,
    layers         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    created_by     TEXT REFERENCES users (id),
    PRIMARY KEY (schedule_id, effective_from)
);

CREATE TABLE schedule_overrides (
    id          TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    action      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    replaces    TEXT REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    created_by  TEXT REFERENCES users (id)
);
CREATE INDEX schedule_overrides_by_schedule ON schedule_overrides (schedule_id, end_at);

-- Which schedule fills an incident role for a team's or a service's incidents.
CREATE TABLE role_schedules (
    scope       TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    schedule_id TEXT NOT NULL REFERENCES schedules (id),
    PRIMARY KEY (scope, scope_id, role)
);
CREATE INDEX role_schedules_by_schedule ON role_schedules (schedule_id);

-- Secret iCalendar feed URLs: only the SHA-256 of the token is kept.
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT REFERENCES users (id)
);
CREATE UNIQUE INDEX calendar_feeds_by_subject ON calendar_feeds (kind, subject);

ALTER TABLE incidents ADD COLUMN understaffed_since BIGINT;
