-- Intake: integration keys of services, business services, alerts grouped into
-- incidents, Opsgenie request records, and support reports absorbed by incidents.
-- Keep in lockstep with migrations/postgres/0005_intake.sql.

-- The severity of an incident opened by an alert that carries none, and whether the
-- incident resolves itself once every one of its alerts is resolved.
ALTER TABLE services ADD COLUMN default_severity TEXT;
ALTER TABLE services ADD COLUMN auto_resolve INTEGER NOT NULL DEFAULT 1;

-- Routing keys / GenieKeys / webhook path keys: only the SHA-256 of the key is kept.
CREATE TABLE integration_keys (
    id                    TEXT PRIMARY KEY,
    service_id            TEXT NOT NULL REFERENCES services (id),
    name                  TEXT,
    key_hash              TEXT NOT NULL UNIQUE,
    key_prefix            TEXT NOT NULL,
    mapping               TEXT,
    rate_limit_per_minute INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    created_by            TEXT REFERENCES users (id),
    revoked_at            INTEGER
);
CREATE INDEX integration_keys_by_service ON integration_keys (service_id);

CREATE TABLE business_services (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    description        TEXT,
    tier               INTEGER NOT NULL,
    customers_served   TEXT,
    stakeholder_groups TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE business_service_dependencies (
    business_service_id TEXT NOT NULL REFERENCES business_services (id) ON DELETE CASCADE,
    service_id          TEXT NOT NULL REFERENCES services (id),
    PRIMARY KEY (business_service_id, service_id)
);
CREATE INDEX business_service_dependencies_by_service ON business_service_dependencies (service_id);

-- One row per alert; an open alert's dedup key is unique per integration key.
CREATE TABLE alerts (
    id                 TEXT PRIMARY KEY,
    service_id         TEXT NOT NULL REFERENCES services (id),
    integration_key_id TEXT NOT NULL REFERENCES integration_keys (id),
    incident_id        TEXT NOT NULL REFERENCES incidents (id),
    dedup_key          TEXT NOT NULL,
    group_key          TEXT,
    format             TEXT NOT NULL,
    status             TEXT NOT NULL,
    summary            TEXT NOT NULL,
    source             TEXT,
    severity           TEXT,
    details            TEXT NOT NULL,
    occurrences        INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    last_event_at      INTEGER NOT NULL,
    resolved_at        INTEGER
);
CREATE UNIQUE INDEX alerts_open_by_key ON alerts (integration_key_id, dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_by_incident ON alerts (incident_id);
CREATE INDEX alerts_open_by_group ON alerts (service_id, group_key) WHERE status <> 'resolved';

-- Opsgenie's asynchronous request ids, answered by GET /v2/alerts/requests/{id}.
CREATE TABLE intake_requests (
    id                 TEXT PRIMARY KEY,
    integration_key_id TEXT NOT NULL REFERENCES integration_keys (id),
    action             TEXT NOT NULL,
    success            INTEGER NOT NULL,
    status             TEXT NOT NULL,
    alert_id           TEXT,
    alias              TEXT,
    created_at         INTEGER NOT NULL
);

CREATE TABLE reports (
    id                  TEXT PRIMARY KEY,
    incident_id         TEXT NOT NULL REFERENCES incidents (id),
    reporter_id         TEXT NOT NULL,
    text                TEXT NOT NULL,
    external_ref        TEXT,
    service_id          TEXT REFERENCES services (id),
    business_service_id TEXT REFERENCES business_services (id),
    matched_by          TEXT NOT NULL,
    created_by          TEXT REFERENCES users (id),
    created_at          INTEGER NOT NULL
);
CREATE INDEX reports_by_incident ON reports (incident_id);
CREATE INDEX reports_by_external_ref ON reports (external_ref);
