-- Tracker sync: Jira projects that get an issue per incident, a comment per external
-- update and a transition on resolve, through durable jobs run by the engine; links
-- between incidents and tickets; and the inbound webhook deliveries already applied.
-- Keep in lockstep with migrations/sqlite/0008_trackers.sql.
CREATE TABLE trackers (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    base_url           TEXT NOT NULL,
    api_version        BIGINT NOT NULL,
    auth_kind          TEXT NOT NULL,
    auth_user          TEXT,
    -- Needed in the clear to call the tracker (like webhook signing secrets).
    auth_secret        TEXT,
    project_key        TEXT NOT NULL,
    issue_type         TEXT NOT NULL,
    resolve_transition TEXT NOT NULL,
    -- Incidents at least this severe get an issue (SEV1 is the most severe).
    min_severity       TEXT NOT NULL,
    inbound_secret     TEXT,
    created_at         BIGINT NOT NULL
);

CREATE TABLE tracker_links (
    tracker_id   TEXT NOT NULL REFERENCES trackers (id) ON DELETE CASCADE,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    issue_key    TEXT NOT NULL,
    issue_id     TEXT,
    -- 'created' (Triad opened it) or 'inbound' (a ticket linked from the tracker).
    origin       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tracker_id, issue_key)
);
CREATE INDEX tracker_links_by_incident ON tracker_links (incident_id);

-- One row per thing to do at a tracker; the key makes enqueuing idempotent.
CREATE TABLE tracker_jobs (
    id              TEXT PRIMARY KEY,
    -- From the 'tracker_job' counter: the order jobs of one incident run in.
    seq             BIGINT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    tracker_id      TEXT NOT NULL REFERENCES trackers (id) ON DELETE CASCADE,
    incident_id     TEXT NOT NULL REFERENCES incidents (id),
    -- 'create', 'comment' or 'transition'; comments and transitions name their issue.
    kind            TEXT NOT NULL,
    issue_key       TEXT,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    done_at         BIGINT
);
CREATE INDEX tracker_jobs_due ON tracker_jobs (status, next_attempt_at);
CREATE INDEX tracker_jobs_by_incident ON tracker_jobs (incident_id, seq);
INSERT INTO counters (name, value) VALUES ('tracker_job', 0);

CREATE TABLE tracker_deliveries (
    tracker_id  TEXT NOT NULL REFERENCES trackers (id) ON DELETE CASCADE,
    identifier  TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (tracker_id, identifier)
);
