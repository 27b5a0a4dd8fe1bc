using Exchange.Server.Hosting;
using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>
/// Versioned schema changes, applied in order on start, each in its own transaction.
/// Append new versions; never edit one that has shipped.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<Migration> Scripts =
    [
        // 1: catalog, revisions, idempotency keys, server secrets.
        """
        CREATE TABLE datasets (
            seq             INTEGER PRIMARY KEY,
            id              TEXT    NOT NULL UNIQUE,
            provider        TEXT    NOT NULL,
            title           TEXT    NOT NULL,
            description     TEXT    NOT NULL,
            classification  INTEGER NOT NULL,
            state           INTEGER NOT NULL,
            auto_approval   BLOB,
            latest_revision INTEGER NOT NULL DEFAULT 0,
            create_time     INTEGER NOT NULL,
            update_time     INTEGER NOT NULL
        );
        CREATE INDEX datasets_by_provider ON datasets (provider, seq);
        CREATE INDEX datasets_by_state ON datasets (state, seq);

        CREATE TABLE dataset_tags (
            dataset_seq INTEGER NOT NULL REFERENCES datasets (seq),
            position    INTEGER NOT NULL,
            tag         TEXT    NOT NULL,
            PRIMARY KEY (dataset_seq, position)
        );
        CREATE INDEX dataset_tags_by_tag ON dataset_tags (tag, dataset_seq);

        CREATE TABLE revisions (
            dataset_seq INTEGER NOT NULL REFERENCES datasets (seq),
            number      INTEGER NOT NULL,
            size_bytes  INTEGER NOT NULL,
            sha256      BLOB    NOT NULL,
            media_type  TEXT    NOT NULL,
            create_time INTEGER NOT NULL,
            PRIMARY KEY (dataset_seq, number)
        );

        CREATE TABLE idempotency_keys (
            participant TEXT    NOT NULL,
            method      TEXT    NOT NULL,
            request_id  TEXT    NOT NULL,
            fingerprint BLOB    NOT NULL,
            resource    TEXT    NOT NULL,
            create_time INTEGER NOT NULL,
            PRIMARY KEY (participant, method, request_id)
        );

        CREATE TABLE server_secrets (
            name  TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        """,

        // 2: the audit log: leaves with the columns that scope and filter them, the hashes of every
        // complete Merkle subtree (id = level << 56 | index), and the signed checkpoints.
        """
        CREATE TABLE audit_events (
            idx              INTEGER PRIMARY KEY,
            leaf             BLOB    NOT NULL,
            time             INTEGER NOT NULL,
            actor            TEXT    NOT NULL,
            action           TEXT    NOT NULL,
            dataset          TEXT,
            subject          TEXT,
            dataset_provider TEXT
        );
        CREATE INDEX audit_events_by_dataset ON audit_events (dataset, idx);
        CREATE INDEX audit_events_by_actor ON audit_events (actor, idx);
        CREATE INDEX audit_events_by_subject ON audit_events (subject, idx);
        CREATE INDEX audit_events_by_provider ON audit_events (dataset_provider, idx);

        CREATE TABLE audit_nodes (
            id   INTEGER PRIMARY KEY,
            hash BLOB NOT NULL
        );

        CREATE TABLE audit_checkpoints (
            size        INTEGER PRIMARY KEY,
            root        BLOB    NOT NULL,
            note        TEXT    NOT NULL,
            create_time INTEGER NOT NULL
        );
        """,

        // 3: access requests and grants. One PENDING request per consumer and dataset is a rule
        // the database keeps, so racing requests cannot both get in.
        """
        CREATE TABLE access_requests (
            seq             INTEGER PRIMARY KEY,
            id              TEXT    NOT NULL UNIQUE,
            dataset_id      TEXT    NOT NULL,
            provider        TEXT    NOT NULL,
            consumer        TEXT    NOT NULL,
            purpose         TEXT    NOT NULL,
            requested_terms BLOB    NOT NULL,
            state           INTEGER NOT NULL,
            grant_id        TEXT,
            decision_reason TEXT    NOT NULL DEFAULT '',
            create_time     INTEGER NOT NULL,
            decide_time     INTEGER
        );
        CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (dataset_id, consumer) WHERE state = 1;
        CREATE INDEX access_requests_by_consumer ON access_requests (consumer, seq);
        CREATE INDEX access_requests_by_provider ON access_requests (provider, seq);
        CREATE INDEX access_requests_by_dataset ON access_requests (dataset_id, seq);

        CREATE TABLE grants (
            seq               INTEGER PRIMARY KEY,
            id                TEXT    NOT NULL UNIQUE,
            dataset_id        TEXT    NOT NULL,
            consumer          TEXT    NOT NULL,
            provider          TEXT    NOT NULL,
            access_request_id TEXT    NOT NULL,
            terms             BLOB    NOT NULL,
            expire_time       INTEGER,
            max_transfers     INTEGER NOT NULL,
            transfers_used    INTEGER NOT NULL DEFAULT 0,
            revoke_time       INTEGER,
            revoke_reason     TEXT    NOT NULL DEFAULT '',
            create_time       INTEGER NOT NULL
        );
        CREATE INDEX grants_by_consumer ON grants (consumer, seq);
        CREATE INDEX grants_by_provider ON grants (provider, seq);
        CREATE INDEX grants_by_dataset ON grants (dataset_id, consumer);
        """,

        // 4: revision bytes (encrypted blobs with wrapped data keys) and transfers.
        """
        ALTER TABLE datasets ADD COLUMN revision_counter INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE revisions ADD COLUMN blob_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE revisions ADD COLUMN wrapped_key BLOB NOT NULL DEFAULT x'';
        ALTER TABLE revisions ADD COLUMN kek_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE revisions ADD COLUMN segment_size INTEGER NOT NULL DEFAULT 0;
        CREATE UNIQUE INDEX revisions_by_blob ON revisions (blob_id) WHERE blob_id <> '';
        UPDATE datasets SET revision_counter = latest_revision;

        CREATE TABLE transfers (
            seq             INTEGER PRIMARY KEY,
            id              TEXT    NOT NULL UNIQUE,
            grant_id        TEXT    NOT NULL,
            dataset_id      TEXT    NOT NULL,
            revision        INTEGER NOT NULL,
            consumer        TEXT    NOT NULL,
            provider        TEXT    NOT NULL,
            purpose         TEXT    NOT NULL,
            state           INTEGER NOT NULL,
            size_bytes      INTEGER NOT NULL,
            bytes_sent      INTEGER NOT NULL DEFAULT 0,
            create_time     INTEGER NOT NULL,
            end_time        INTEGER,
            failure_reason  TEXT    NOT NULL DEFAULT '',
            attempt         INTEGER NOT NULL DEFAULT 1,
            receipt_index   INTEGER,
            request_id      TEXT    NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX transfers_by_request ON transfers (consumer, request_id) WHERE request_id <> '';
        CREATE INDEX transfers_by_grant ON transfers (grant_id, seq);
        CREATE INDEX transfers_by_consumer ON transfers (consumer, seq);
        CREATE INDEX transfers_by_provider ON transfers (provider, seq);
        """,

        // 5: quotas that hold. Automatic grants are marked, so automatic approval is once per consumer
        // and dataset; a streaming transfer names the gateway process serving it, and each process says
        // it is alive, so a transfer left STARTED by a crash or a lost replica is failed and can resume;
        // audit reads by action and time have indexes of their own.
        """
        ALTER TABLE grants ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX grants_automatic ON grants (dataset_id, consumer, seq) WHERE automatic = 1;
        -- An automatic approval happened in the unit of work that filed the request, so at the same instant.
        UPDATE grants SET automatic = 1 WHERE access_request_id IN (
            SELECT id FROM access_requests WHERE state = 2 AND decide_time = create_time);

        -- Download request ids now live in idempotency_keys like every other; transfers.request_id is no longer written.
        DROP INDEX transfers_by_request;
        ALTER TABLE transfers ADD COLUMN gateway TEXT NOT NULL DEFAULT '';
        CREATE INDEX transfers_started ON transfers (gateway) WHERE state = 1;
        CREATE TABLE gateways (
            id        TEXT    PRIMARY KEY,
            seen_time INTEGER NOT NULL
        );

        ALTER TABLE datasets ADD COLUMN delist_reason TEXT NOT NULL DEFAULT '';

        CREATE INDEX audit_events_by_action ON audit_events (action, idx);
        CREATE INDEX audit_events_by_time ON audit_events (time, idx);
        """,

        // 6: participants an operator suspended or reinstated (there is no registry of participants:
        // one without a row is ACTIVE). The version counts changes, so a replica that hears of them
        // out of order keeps the newest.
        """
        CREATE TABLE participants (
            seq            INTEGER PRIMARY KEY,
            id             TEXT    NOT NULL UNIQUE,
            state          INTEGER NOT NULL,
            suspend_reason TEXT    NOT NULL DEFAULT '',
            suspend_time   INTEGER,
            update_time    INTEGER NOT NULL,
            version        INTEGER NOT NULL
        );
        CREATE INDEX participants_by_state ON participants (state, seq);
        """,

        // 7: an index for ListDatasets' text filter (a substring of the title, the description or one
        // tag), so a page walks only the matching datasets in creation order. SQLite: a trigram FTS5
        // table (rowid = datasets.seq) kept by triggers; tags are one per line, and a query holds no
        // line feed, so a match never spans two tags. PostgreSQL: trigram indexes serving the LIKEs.
        new(
            Sqlite: """
            CREATE VIRTUAL TABLE dataset_text USING fts5 (title, description, tags, tokenize = 'trigram');
            INSERT INTO dataset_text (rowid, title, description, tags)
            SELECT d.seq, d.title, d.description,
                   COALESCE((SELECT group_concat(t.tag, char(10)) FROM dataset_tags t WHERE t.dataset_seq = d.seq), '')
            FROM datasets d;

            CREATE TRIGGER dataset_text_insert AFTER INSERT ON datasets BEGIN
                INSERT INTO dataset_text (rowid, title, description, tags) VALUES (new.seq, new.title, new.description, '');
            END;
            CREATE TRIGGER dataset_text_update AFTER UPDATE OF title, description ON datasets BEGIN
                UPDATE dataset_text SET title = new.title, description = new.description WHERE rowid = new.seq;
            END;
            CREATE TRIGGER dataset_text_delete AFTER DELETE ON datasets BEGIN
                DELETE FROM dataset_text WHERE rowid = old.seq;
            END;
            CREATE TRIGGER dataset_text_tag_insert AFTER INSERT ON dataset_tags BEGIN
                UPDATE dataset_text
                SET tags = (SELECT group_concat(t.tag, char(10)) FROM dataset_tags t WHERE t.dataset_seq = new.dataset_seq)
                WHERE rowid = new.dataset_seq;
            END;
            CREATE TRIGGER dataset_text_tag_delete AFTER DELETE ON dataset_tags BEGIN
                UPDATE dataset_text
                SET tags = COALESCE((SELECT group_concat(t.tag, char(10)) FROM dataset_tags t WHERE t.dataset_seq = old.dataset_seq), '')
                WHERE rowid = old.dataset_seq;
            END;
            """,
            Postgres: """
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX datasets_title_trgm ON datasets USING gin (lower(title) gin_trgm_ops);
            CREATE INDEX datasets_description_trgm ON datasets USING gin (lower(description) gin_trgm_ops);
            CREATE INDEX dataset_tags_trgm ON dataset_tags USING gin (tag gin_trgm_ops);
            """),

        // 8: tabular revisions: the format, the schema and the quality report as attested (their
        // protobuf bytes, hashed in the upload's audit event), and the report's share of cells with
        // a value, which ListDatasets filters on; the format a transfer encodes a table in (0: the
        // bytes as stored), which its resumes must keep.
        """
        ALTER TABLE transfers ADD COLUMN format INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE revisions ADD COLUMN table_format INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE revisions ADD COLUMN table_schema BLOB;
        ALTER TABLE revisions ADD COLUMN quality BLOB;
        ALTER TABLE revisions ADD COLUMN completeness DOUBLE PRECISION;
        """,

        // 9: privacy budgets of compute grants: what the provider added and what answered queries
        // spent, in thousandths of epsilon. Kept in the transaction of each budget or query audit
        // event, so it always equals what the log adds up to; the log alone can recompute it.
        """
        CREATE TABLE compute_budgets (
            grant_id     TEXT    NOT NULL PRIMARY KEY,
            added_millis INTEGER NOT NULL DEFAULT 0,
            spent_millis INTEGER NOT NULL DEFAULT 0,
            queries      INTEGER NOT NULL DEFAULT 0
        );
        """,

        // 10: the rights registry: each right's record as last logged (a serialized exchange.v1.Right,
        // whose SHA-256 its last event carries), with the columns it is found and checked by, and
        // the audit events that made each right, for its certificate (own = 0: a licence drawn from it).
        """
        CREATE TABLE rights (
            seq              INTEGER PRIMARY KEY,
            id               TEXT    NOT NULL UNIQUE,
            dataset_id       TEXT    NOT NULL,
            dataset_provider TEXT    NOT NULL,
            kind             INTEGER NOT NULL,
            holder           TEXT    NOT NULL,
            state            INTEGER NOT NULL,
            licensed_from    TEXT,
            start_time       INTEGER NOT NULL,
            end_time         INTEGER,
            record           BLOB    NOT NULL
        );
        CREATE INDEX rights_by_dataset ON rights (dataset_id, kind, seq);
        CREATE INDEX rights_by_holder ON rights (holder, seq);
        CREATE INDEX rights_by_source ON rights (licensed_from);

        CREATE TABLE right_events (
            right_id TEXT    NOT NULL,
            idx      INTEGER NOT NULL,
            own      INTEGER NOT NULL,
            PRIMARY KEY (right_id, idx)
        );
        """,

        // 11: lineage: which datasets were derived from which revisions under which grants (with whether the
        // grant's terms let descendants survive its revocation, copied from those immutable terms), and each
        // dataset's standing as a descendant (0: not derived, 1: clear, 2: flagged), with whether a
        // flag stops its downloads (the source grant's terms decide).
        """
        CREATE TABLE derivations (
            seq             INTEGER PRIMARY KEY,
            id              TEXT    NOT NULL UNIQUE,
            dataset_id      TEXT    NOT NULL,
            source_dataset  TEXT    NOT NULL,
            source_revision INTEGER NOT NULL,
            grant_id        TEXT    NOT NULL,
            declared_by     TEXT    NOT NULL,
            create_time     INTEGER NOT NULL,
            state           INTEGER NOT NULL,
            flag_reason     TEXT    NOT NULL DEFAULT '',
            flag_time       INTEGER,
            descendants_survive INTEGER NOT NULL
        );
        CREATE INDEX derivations_by_dataset ON derivations (dataset_id, seq);
        CREATE INDEX derivations_by_source ON derivations (source_dataset, seq);
        CREATE INDEX derivations_by_grant ON derivations (grant_id);

        ALTER TABLE datasets ADD COLUMN lineage_status INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE datasets ADD COLUMN lineage_reason TEXT NOT NULL DEFAULT '';
        ALTER TABLE datasets ADD COLUMN lineage_blocks INTEGER NOT NULL DEFAULT 0;
        """,

        // 12: offers: each an immutable serialized exchange.v1.Offer, with the columns it is found by;
        // withdrawal sets state and time, and never touches the record a grant copied.
        """
        CREATE TABLE offers (
            seq           INTEGER PRIMARY KEY,
            id            TEXT    NOT NULL UNIQUE,
            dataset_id    TEXT    NOT NULL,
            private_to    TEXT,
            state         INTEGER NOT NULL,
            withdraw_time INTEGER,
            record        BLOB    NOT NULL
        );
        CREATE INDEX offers_by_dataset ON offers (dataset_id, seq);
        """,

        // 13: metering and settlement: usage records (one per chargeable event, its id derived from the
        // event), the double-entry ledger they post (entries of one usage sum to zero), closed periods,
        // the settlement instructions a close produces, and the subscriptions whose next period is due.
        """
        CREATE TABLE usage_records (
            seq          INTEGER PRIMARY KEY,
            id           TEXT    NOT NULL UNIQUE,
            grant_id     TEXT    NOT NULL,
            dataset_id   TEXT    NOT NULL,
            consumer     TEXT    NOT NULL,
            provider     TEXT    NOT NULL,
            offer        TEXT    NOT NULL,
            kind         INTEGER NOT NULL,
            units        INTEGER NOT NULL,
            amount_minor INTEGER NOT NULL,
            fee_minor    INTEGER NOT NULL,
            currency     TEXT    NOT NULL,
            resource     TEXT    NOT NULL,
            event_index  INTEGER NOT NULL,
            charge_index INTEGER NOT NULL,
            usage_period TEXT    NOT NULL,
            period       TEXT    NOT NULL,
            charge_time  INTEGER NOT NULL
        );
        CREATE INDEX usage_by_grant ON usage_records (grant_id, usage_period);
        CREATE INDEX usage_by_consumer ON usage_records (consumer, period, seq);
        CREATE INDEX usage_by_provider ON usage_records (provider, period, seq);
        CREATE INDEX usage_by_resource ON usage_records (resource);

        CREATE TABLE ledger_entries (
            seq          INTEGER PRIMARY KEY,
            usage_id     TEXT    NOT NULL,
            account      TEXT    NOT NULL,
            amount_minor INTEGER NOT NULL,
            currency     TEXT    NOT NULL,
            period       TEXT    NOT NULL
        );
        CREATE INDEX ledger_by_period ON ledger_entries (period, account);
        CREATE INDEX ledger_by_usage ON ledger_entries (usage_id);

        CREATE TABLE billing_periods (
            period      TEXT    PRIMARY KEY,
            close_time  INTEGER NOT NULL,
            closed_by   TEXT    NOT NULL,
            close_index INTEGER NOT NULL
        );

        CREATE TABLE settlements (
            seq           INTEGER PRIMARY KEY,
            period        TEXT    NOT NULL,
            number        INTEGER NOT NULL,
            payer         TEXT    NOT NULL,
            payee         TEXT    NOT NULL,
            currency      TEXT    NOT NULL,
            amount_minor  INTEGER NOT NULL,
            paid_time     INTEGER,
            paid_by       TEXT    NOT NULL DEFAULT '',
            reference     TEXT    NOT NULL DEFAULT '',
            UNIQUE (period, number)
        );

        CREATE TABLE subscriptions (
            grant_id      TEXT    PRIMARY KEY,
            next_number   INTEGER NOT NULL,
            next_start    INTEGER NOT NULL,
            approve_index INTEGER NOT NULL
        );
        CREATE INDEX subscriptions_due ON subscriptions (next_start);
        """,

        // 14: how many bytes a transfer's resumes have gone back over, in all: a resume may re-send what
        // was in flight when a stream broke, and this bounds it across every resume, not only each one.
        // And when a grant used its last transfer: a subscription stops renewing from then on. And the
        // completed transfers of a dataset, which every ListOffers counts as its demand, by index. And
        // each grant's usage per month so far, kept with every usage record, which each charge prices
        // its free units and cap from without summing the month's records again; and the periods that have
        // usage, found by index at every sweep.
        """
        ALTER TABLE transfers ADD COLUMN bytes_resent INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE grants ADD COLUMN exhaust_time INTEGER;
        CREATE INDEX transfers_by_dataset ON transfers (dataset_id, state, create_time);

        CREATE TABLE usage_totals (
            grant_id     TEXT    NOT NULL,
            usage_period TEXT    NOT NULL,
            units        INTEGER NOT NULL,
            amount_minor INTEGER NOT NULL,
            PRIMARY KEY (grant_id, usage_period)
        );
        INSERT INTO usage_totals (grant_id, usage_period, units, amount_minor)
            SELECT grant_id, usage_period, SUM(units), SUM(amount_minor) FROM usage_records GROUP BY grant_id, usage_period;
        CREATE INDEX usage_by_period ON usage_records (period);
        """,

        // 15: when a grant's consumer cancelled its subscription's renewal; the grant then expires at
        // the end of the last period charged (its expire_time and terms say when). And the index below.
        """
        ALTER TABLE grants ADD COLUMN renewal_cancel_time INTEGER;

        -- And a dataset's queries, which every ListOffers counts as its demand: found by index among
        -- the dataset's other events (downloads and their charges may be most of them), not by walking them.
        CREATE INDEX audit_events_compute_queries ON audit_events (dataset, time) WHERE action = 'compute.query';
        """,

        // 16: the index of the event that cancelled a grant's renewal: its receipt's, given again on a retry.
        """
        ALTER TABLE grants ADD COLUMN renewal_cancel_index INTEGER;
        """,
    ];

    public static int LatestVersion => Scripts.Count;

    /// <summary>Brings the schema to <see cref="LatestVersion"/>; refuses a schema newer than this build knows.</summary>
    public static int Apply(DbConnection connection, DatabaseEngine engine, TimeProvider time) => engine.WithSchemaLock(connection, () =>
    {
        connection.Command(engine.SchemaScript("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, apply_time TEXT NOT NULL)"))
            .ExecuteNonQuery();
        var current = Convert.ToInt32(connection.Command("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").ExecuteScalar(),
            System.Globalization.CultureInfo.InvariantCulture);
        if (current > LatestVersion)
        {
            throw new StartupException(
                $"The database schema is at version {current}, newer than this server knows ({LatestVersion}). " +
                "Upgrade the server, or point it at a database of its own version.");
        }

        for (var version = current + 1; version <= LatestVersion; version++)
        {
            using var transaction = engine.BeginWrite(connection);
            connection.Command(engine.SchemaScript(Scripts[version - 1]), transaction).ExecuteNonQuery();
            connection.Command("INSERT INTO schema_migrations (version, apply_time) VALUES (@v, @t)", transaction)
                .With("@v", version)
                .With("@t", time.GetUtcNow().ToString("O"))
                .ExecuteNonQuery();
            transaction.Commit();
        }

        return LatestVersion;
    });
}
