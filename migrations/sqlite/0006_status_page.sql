-- External communication, part one: business impact on incidents, and the public status
-- page (its settings, components, scheduled maintenances, and which incidents are public).
-- Keep in lockstep with migrations/postgres/0006_status_page.sql.

-- The impact of an incident on each business service it affects (replaced as a set).
CREATE TABLE incident_impacts (
    incident_id         TEXT NOT NULL REFERENCES incidents (id),
    business_service_id TEXT NOT NULL REFERENCES business_services (id),
    impact              TEXT NOT NULL,
    customers_affected  INTEGER,
    updated_at          INTEGER NOT NULL,
    updated_by          TEXT REFERENCES users (id),
    PRIMARY KEY (incident_id, business_service_id)
);
CREATE INDEX incident_impacts_by_business_service ON incident_impacts (business_service_id);

-- The impact x criticality-tier matrix: the severity suggested for each pair. Rows
-- absent here take the built-in defaults (see domain::status).
CREATE TABLE impact_matrix (
    impact   TEXT NOT NULL,
    tier     INTEGER NOT NULL,
    severity TEXT NOT NULL,
    PRIMARY KEY (impact, tier)
);

-- The one status page: its public id (12 lowercase base-36 characters, as Statuspage's),
-- name, public address and time zone.
CREATE TABLE status_page (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    page_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Components shown on the page, each linked to a technical service or a business service
-- (or a group of other components).
CREATE TABLE status_components (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    description           TEXT,
    position              INTEGER NOT NULL,
    is_group              INTEGER NOT NULL,
    group_id              TEXT REFERENCES status_components (id),
    -- Deleting the service or business service unlinks the component; it stays.
    service_id            TEXT REFERENCES services (id) ON DELETE SET NULL,
    business_service_id   TEXT REFERENCES business_services (id) ON DELETE SET NULL,
    showcase              INTEGER NOT NULL,
    only_show_if_degraded INTEGER NOT NULL,
    start_date            TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX status_components_by_group ON status_components (group_id);
CREATE INDEX status_components_by_service ON status_components (service_id);
CREATE INDEX status_components_by_business_service ON status_components (business_service_id);

-- An incident is on the status page from its first public update; the row keeps the
-- public name (the internal title only when nobody gave one) and the state the latest
-- public update announced.
CREATE TABLE public_incidents (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    name        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX public_incidents_by_created ON public_incidents (created_at);
CREATE INDEX public_incidents_by_updated ON public_incidents (updated_at);
CREATE INDEX public_incidents_unresolved ON public_incidents (incident_id) WHERE state <> 'resolved';

CREATE TABLE maintenances (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    body            TEXT NOT NULL,
    scheduled_for   INTEGER NOT NULL,
    scheduled_until INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    created_by      TEXT REFERENCES users (id)
);
CREATE INDEX maintenances_by_start ON maintenances (scheduled_for);
CREATE INDEX maintenances_by_end ON maintenances (scheduled_until);

CREATE TABLE maintenance_components (
    maintenance_id TEXT NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    component_id   TEXT NOT NULL REFERENCES status_components (id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);
CREATE INDEX maintenance_components_by_component ON maintenance_components (component_id);
