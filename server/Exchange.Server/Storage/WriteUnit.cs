using System.Data.Common;
using Exchange.Transparency;

namespace Exchange.Server.Storage;

/// <summary>
/// What one unit of work sees inside the writer's transaction: the connection, the time of the
/// write, and <see cref="Record"/>, the one way to append to the audit log, so an effect and its
/// record always commit or roll back together.
/// </summary>
internal sealed class WriteUnit
{
    private readonly AuditTree _tree;
    private readonly DatabaseEngine _engine;
    private readonly DbCommand _insertEvent;
    private readonly DbCommand _insertNode;

    public WriteUnit(DbConnection connection, AuditTree tree, DatabaseEngine engine)
    {
        Connection = connection;
        _tree = tree;
        _engine = engine;
        _insertEvent = connection.CreateCommand();
        _insertEvent.CommandText = """
            INSERT INTO audit_events (idx, leaf, time, actor, action, dataset, subject, dataset_provider)
            VALUES (@idx, @leaf, @time, @actor, @action, @dataset, @subject, @provider)
            """;
        foreach (var name in new[] { "@idx", "@leaf", "@time", "@actor", "@action", "@dataset", "@subject", "@provider" })
        {
            _insertEvent.Parameter(name);
        }

        _insertNode = connection.CreateCommand();
        _insertNode.CommandText = "INSERT INTO audit_nodes (id, hash) VALUES (@id, @hash)";
        _insertNode.Parameter("@id");
        _insertNode.Parameter("@hash");
    }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; private set; } = null!;

    /// <summary>The time of this unit of work; effects and their audit records share it.</summary>
    public DateTimeOffset Now { get; private set; }

    /// <summary>Leaves in the log, counting this transaction's appends.</summary>
    public long TreeSize => _tree.Size;

    /// <summary>The root over <see cref="TreeSize"/> leaves.</summary>
    public byte[] TreeRoot() => _tree.Root();

    public DbCommand Command(string sql) => Connection.Command(sql, Transaction);

    /// <summary>Set when an append failed part-way: the writer then rolls the whole unit back, whatever the unit did with the error.</summary>
    public Exception? Poisoned { get; private set; }

    /// <summary>What this unit announced, for this replica's own listeners once it commits.</summary>
    internal List<(string Channel, string Payload)> Announced { get; } = [];

    /// <summary>Tells this replica, and every replica sharing the database, once this unit commits, e.g. that a grant was revoked.</summary>
    public void Announce(string channel, string payload)
    {
        _engine.Announce(Connection, Transaction, channel, payload);
        Announced.Add((channel, payload));
    }

    /// <summary>Appends <paramref name="entry"/> to the audit log in this transaction; returns its index.</summary>
    public long Record(AuditEntry entry)
    {
        try
        {
            return Append(entry);
        }
        catch (Exception ex)
        {
            Poisoned ??= ex;
            throw;
        }
    }

    private long Append(AuditEntry entry)
    {
        var leaf = entry.Encode(Now);
        var index = _tree.Append(Rfc6962.LeafHash(leaf), (id, hash) =>
        {
            _insertNode.Transaction = Transaction;
            _insertNode.Parameters[0].Value = id;
            _insertNode.Parameters[1].Value = hash;
            _insertNode.ExecuteNonQuery();
        });

        _insertEvent.Transaction = Transaction;
        var p = _insertEvent.Parameters;
        p[0].Value = index;
        p[1].Value = leaf;
        p[2].Value = Timestamps.ToMicros(Now);
        p[3].Value = entry.Actor;
        p[4].Value = entry.Action;
        p[5].Value = NullIfEmpty(entry.Dataset);
        p[6].Value = NullIfEmpty(entry.Subject);
        p[7].Value = NullIfEmpty(entry.DatasetProvider);
        _insertEvent.ExecuteNonQuery();
        return index;
    }

    internal void Begin(DbTransaction transaction, DateTimeOffset now)
    {
        Transaction = transaction;
        // Microseconds: the precision every stored time has, so an effect and its record agree exactly.
        Now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
        Poisoned = null;
        Announced.Clear();
    }

    private static object NullIfEmpty(string value) => value.Length == 0 ? DBNull.Value : value;
}
