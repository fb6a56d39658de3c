-- Subscribers of the status page, by email or signed webhook: the whole page or one
-- component, confirmed by a link (double opt-in: the email's reader, or the webhook's
-- receiver, follows it) and ended by a one-click link in every message. Only a SHA-256 of
-- the confirmation token is kept; the unsubscribe token is kept as is, since every
-- email must carry it (it can only end the subscription). Keep in lockstep with migrations/postgres/0007_subscribers.sql.
CREATE TABLE subscribers (
    id                TEXT PRIMARY KEY,
    -- 'email' or 'webhook'.
    channel           TEXT NOT NULL,
    -- The email address or the webhook URL.
    address           TEXT NOT NULL,
    -- A webhook's signing secret (Triad-Signature); none for email.
    secret            TEXT,
    -- A component id, or 'page' for the whole page.
    scope             TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    confirm_sent_at   INTEGER NOT NULL,
    confirmed_at      INTEGER,
    unsubscribed_at   INTEGER
);
-- One live subscription per address and scope.
CREATE UNIQUE INDEX subscribers_live ON subscribers (channel, address, scope) WHERE unsubscribed_at IS NULL;
CREATE INDEX subscribers_by_scope ON subscribers (scope) WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL;

-- People (typically stakeholders) who follow a business service: every stakeholder
-- update of an incident affecting it reaches them through their own contact methods.
CREATE TABLE business_service_followers (
    business_service_id TEXT NOT NULL REFERENCES business_services (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id),
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (business_service_id, user_id)
);
CREATE INDEX business_service_followers_by_user ON business_service_followers (user_id);
