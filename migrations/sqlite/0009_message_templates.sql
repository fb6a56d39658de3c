-- Message templates per audience and stage (received, acknowledged, update, resolved),
-- written in MiniJinja; a stage without one keeps Triad's built-in words.
-- Keep in lockstep with migrations/postgres/0009_message_templates.sql.
CREATE TABLE message_templates (
    audience   TEXT NOT NULL,
    stage      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT REFERENCES users (id),
    PRIMARY KEY (audience, stage)
);
