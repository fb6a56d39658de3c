-- The engine: escalation policies, stored severity policies, reporters, running
-- escalations, communication obligations, timers, contact methods, notification rules and
-- the notification outbox. Keep in lockstep with migrations/postgres/0003_engine.sql.

CREATE TABLE escalation_policies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    levels      TEXT NOT NULL,
    repeat_count INTEGER NOT NULL,
    fallback    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

ALTER TABLE services ADD COLUMN escalation_policy_id TEXT REFERENCES escalation_policies (id);
ALTER TABLE services ADD COLUMN chat_webhook TEXT;

-- Severity policies set through the API; a severity without a row runs on the
-- configuration file's policy.
CREATE TABLE severity_policies (
    severity   TEXT PRIMARY KEY,
    policy     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT REFERENCES users (id)
);

ALTER TABLE incidents ADD COLUMN communication_gap_at INTEGER;
ALTER TABLE incidents ADD COLUMN update_requests INTEGER NOT NULL DEFAULT 0;

CREATE TABLE incident_reporters (
    id             TEXT PRIMARY KEY,
    incident_id    TEXT NOT NULL REFERENCES incidents (id),
    name           TEXT NOT NULL,
    email          TEXT,
    webhook        TEXT,
    webhook_secret TEXT,
    user_id        TEXT REFERENCES users (id),
    created_at     INTEGER NOT NULL
);
CREATE INDEX incident_reporters_incident ON incident_reporters (incident_id);

-- One row per escalation run. purpose: ack, comms or update_request.
CREATE TABLE escalations (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    purpose     TEXT NOT NULL,
    audience    TEXT,
    snapshot    TEXT NOT NULL,
    level       INTEGER NOT NULL,
    round       INTEGER NOT NULL,
    state       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    end_reason  TEXT
);
CREATE INDEX escalations_incident ON escalations (incident_id, state);

CREATE TABLE obligations (
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    audience      TEXT NOT NULL,
    due_at        INTEGER NOT NULL,
    remind_at     INTEGER NOT NULL,
    overdue_since INTEGER,
    PRIMARY KEY (incident_id, audience)
);

ALTER TABLE status_updates ADD COLUMN due_at INTEGER;
ALTER TABLE status_updates ADD COLUMN late_by_ms INTEGER;

-- Every timer is a row: (kind, subject) names it, generation tells a rescheduled timer
-- from the one it replaced.
CREATE TABLE timers (
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    generation INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE contact_methods (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    type       TEXT NOT NULL,
    address    TEXT NOT NULL,
    label      TEXT,
    secret     TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX contact_methods_user ON contact_methods (user_id);

CREATE TABLE notification_rules (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id),
    contact_method_id TEXT NOT NULL REFERENCES contact_methods (id) ON DELETE CASCADE,
    delay_seconds     INTEGER NOT NULL,
    urgency           TEXT NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX notification_rules_user ON notification_rules (user_id);

-- The outbox. status: pending (never tried), failed (will be retried), sent, dead,
-- cancelled.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    incident_id     TEXT REFERENCES incidents (id),
    purpose         TEXT NOT NULL,
    user_id         TEXT REFERENCES users (id),
    recipient       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    secret          TEXT,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    event           TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_incident ON notifications (incident_id, created_at);
CREATE INDEX notifications_destination ON notifications (channel, address, sent_at);
