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
