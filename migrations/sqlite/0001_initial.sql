-- The control plane's store: config entities, tokens, the fleet and the revision log.
-- Kept in step with ../postgres/0001_initial.sql: same tables, columns and constraints.

-- One row: the current revision and the snapshot built for it. Every config write locks
-- this row first, so writes are serialized and each commit bumps the revision once.
CREATE TABLE config_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL,
    snapshot TEXT NOT NULL
);
INSERT INTO config_state (id, revision, snapshot) VALUES (1, 0, '{"version":1,"tenants":{}}');

CREATE TABLE revisions (
    number BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    tenant TEXT,
    summary TEXT NOT NULL
);

-- `body` is the tenant's own settings as a JSON object, without hosts, keys, schemas and
-- routes, which have their own tables.
CREATE TABLE tenants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- Uniqueness of hosts is the snapshot check's job (it compares them as requests are matched).
CREATE TABLE hosts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    host TEXT NOT NULL
);
CREATE INDEX hosts_tenant ON hosts (tenant);

CREATE TABLE keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    kid TEXT NOT NULL,
    jwk TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (tenant, kid)
);

CREATE TABLE schemas (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    schema TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (tenant, name, version)
);

CREATE TABLE routes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (tenant, name)
);

-- Only the SHA-256 of a token is kept; the token itself is shown once, at creation.
CREATE TABLE tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('admin', 'node')),
    tenant TEXT REFERENCES tenants (name) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL
);

-- The fleet as the nodes reported it. `session` names the latest Watch stream of the node,
-- so an old stream ending does not mark a reconnected node as gone.
CREATE TABLE nodes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL,
    software_version TEXT NOT NULL,
    session TEXT NOT NULL,
    connected BIGINT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    applied_revision BIGINT NOT NULL,
    last_nack_revision BIGINT,
    last_nack_error TEXT,
    last_nack_ms BIGINT,
    active_streams TEXT NOT NULL
);
