using System.Data.Common;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Pricing;

/// <summary>
/// Offers in the database. An offer's record is written once; withdrawal changes only its state
/// columns, so the copy a grant keeps is the offer as made. Each change checks the caller and
/// records itself, a denial included, in the writer's transaction.
/// </summary>
internal sealed class PricingStore(Database database, ICatalog catalog) : IOffers
{
    // One query for offers, in and out of a unit of work; the caller adds its condition.
    private const string SelectOffers = "SELECT o.record, o.state, o.withdraw_time FROM offers o WHERE o.dataset_id = @d AND ";

    /// <summary>At most this many active offers on one dataset.</summary>
    public const int MaxActiveOffers = 32;

    public Task<Decision<Offer>> CreateAsync(Caller caller, DatasetId datasetId, Offer asked, string requestId, byte[] fingerprint,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Offer>>(unit =>
        {
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "CreateOffer", requestId, fingerprint) is { } earlier)
            {
                return Find(unit, OfferName.Parse(earlier))!;
            }

            var dataset = catalog.FindVisible(unit, datasetId, caller) ?? throw Refusal.NotVisible(datasetId.Name);
            var name = OfferName.New(datasetId);
            if (!PricingPolicy.CanOffer(caller, dataset.Provider))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.OfferCreate, name.Name, Outcome.Denied, Dataset: datasetId.Name,
                    Subject: caller.Participant, DatasetProvider: dataset.Provider), $"Only the provider of '{datasetId.Name}' may make offers on it.");
            }

            if (Convert.ToInt64(unit.Command("SELECT COUNT(*) FROM offers WHERE dataset_id = @d AND state = @active")
                    .With("@d", datasetId.Value).With("@active", (int)OfferState.Active).ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)
                >= MaxActiveOffers)
            {
                throw Refusal.Precondition($"'{datasetId.Name}' has {MaxActiveOffers} active offers, as many as a dataset may; withdraw one first.");
            }

            var offer = asked.Clone();
            offer.Name = name.Name;
            offer.Dataset = datasetId.Name;
            offer.State = OfferState.Active;
            offer.CreateTime = Timestamp.FromDateTimeOffset(unit.Now);
            unit.Command("INSERT INTO offers (id, dataset_id, private_to, state, record) VALUES (@id, @d, @to, @state, @record)")
                .With("@id", name.Id).With("@d", datasetId.Value).With("@to", offer.PrivateTo.Length == 0 ? null : offer.PrivateTo)
                .With("@state", (int)OfferState.Active).With("@record", offer.ToByteArray())
                .ExecuteNonQuery();
            // The offer's terms in full: what a grant that accepts it will keep, attested here first.
            unit.Record(new AuditEntry(caller.Participant, AuditActions.OfferCreate, name.Name, Outcome.Success, Dataset: datasetId.Name,
                Subject: offer.PrivateTo.Length > 0 ? offer.PrivateTo : caller.Participant, DatasetProvider: dataset.Provider,
                Details: new Dictionary<string, string> { ["offer_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(offer.ToByteArray())) }));
            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "CreateOffer", requestId, fingerprint, name.Name,
                    Timestamps.ToMicros(unit.Now));
            }

            return offer;
        }, cancellationToken);

    public Task<Decision<Offer>> WithdrawAsync(Caller caller, OfferName name, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Offer>>(unit =>
        {
            var dataset = catalog.FindVisible(unit, name.Dataset, caller);
            var found = Find(unit, name);
            if (dataset is null || found is null || !PricingPolicy.CanSee(caller, dataset.Provider, found))
            {
                throw Refusal.NotFound(name.Name, exists: found is not null);
            }

            if (!PricingPolicy.CanOffer(caller, dataset.Provider))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.OfferWithdraw, name.Name, Outcome.Denied, Dataset: name.Dataset.Name,
                    Subject: caller.Participant, DatasetProvider: dataset.Provider), $"Only the provider of '{name.Dataset.Name}' may withdraw its offers.");
            }

            if (found.State == OfferState.Withdrawn)
            {
                throw Refusal.Precondition($"'{name.Name}' is already withdrawn.");
            }

            unit.Command("UPDATE offers SET state = @withdrawn, withdraw_time = @now WHERE id = @id")
                .With("@withdrawn", (int)OfferState.Withdrawn).With("@now", Timestamps.ToMicros(unit.Now)).With("@id", name.Id)
                .ExecuteNonQuery();
            unit.Record(new AuditEntry(caller.Participant, AuditActions.OfferWithdraw, name.Name, Outcome.Success, Dataset: name.Dataset.Name,
                Subject: caller.Participant, DatasetProvider: dataset.Provider));
            return Find(unit, name)!;
        }, cancellationToken);

    /// <summary>The offer as the caller may see it, or null (missing or hidden).</summary>
    public async Task<Offer?> GetAsync(Caller caller, OfferName name, CancellationToken cancellationToken)
    {
        var dataset = await catalog.GetVisibleAsync(name.Dataset, caller, cancellationToken);
        if (dataset is null)
        {
            return null;
        }

        var offers = await ReadAsync(name.Dataset, "o.id = @id", c => c.With("@id", name.Id), cancellationToken);
        return offers.FirstOrDefault(o => PricingPolicy.CanSee(caller, dataset.Provider, o));
    }

    /// <summary>A dataset's queries asked, ever and since <c>@since</c>: answered from the index of queries alone (schema 15).</summary>
    internal const string QueriesSql =
        "SELECT COUNT(*), SUM(CASE WHEN time >= @since THEN 1 ELSE 0 END) FROM audit_events WHERE dataset = @key AND action = 'compute.query'";

    /// <summary>The dataset's offers the caller may see (active ones, or all), the latest revision's quality, and the dataset's demand.</summary>
    public async Task<(List<Offer> Offers, Demand Demand)?> ListAsync(Caller caller, DatasetId datasetId, bool withdrawnToo,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dataset = await catalog.GetVisibleAsync(datasetId, caller, cancellationToken);
        if (dataset is null)
        {
            return null;
        }

        var offers = (await ReadAsync(datasetId, withdrawnToo ? "1 = 1" : "o.state = @active", c => c.With("@active", (int)OfferState.Active),
                cancellationToken))
            .Where(o => PricingPolicy.CanSee(caller, dataset.Provider, o)).ToList();
        var demand = await database.ReadAsync(async (connection, ct) =>
        {
            var since = Timestamps.ToMicros(now.AddDays(-90));
            async Task<(long All, long Recent)> CountAsync(string sql, object key)
            {
                await using var command = connection.Command(sql).With("@key", key).With("@since", since);
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                return (reader.IsDBNull(0) ? 0 : reader.GetInt64(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1));
            }

            var grants = await CountAsync(
                "SELECT COUNT(*), SUM(CASE WHEN create_time >= @since THEN 1 ELSE 0 END) FROM grants WHERE dataset_id = @key", datasetId.Value);
            var transfers = await CountAsync(
                "SELECT COUNT(*), SUM(CASE WHEN create_time >= @since THEN 1 ELSE 0 END) FROM transfers WHERE dataset_id = @key AND state = 2",
                datasetId.Value);
            var queries = await CountAsync(QueriesSql, datasetId.Name);
            return new Demand
            {
                Grants = grants.All,
                Grants90Days = grants.Recent,
                Transfers = transfers.All,
                Transfers90Days = transfers.Recent,
                Queries = queries.All,
                Queries90Days = queries.Recent,
            };
        }, cancellationToken);
        return (offers, demand);
    }

    public Offer? Accept(WriteUnit unit, DatasetId dataset, string? offer, Caller caller)
    {
        if (offer is null)
        {
            var open = Rows(unit, dataset, "o.state = @active", c => c.With("@active", (int)OfferState.Active))
                .Where(o => o.PrivateTo.Length == 0 || o.PrivateTo == caller.Participant).Select(o => o.Name).ToList();
            return open.Count == 0
                ? null
                : throw Refusal.Precondition(
                    $"'{dataset.Name}' is offered at a price; name the offer you accept (offer): {string.Join(", ", open)}. QuoteAccess tells what each costs.");
        }

        var name = OfferName.Parse(offer, "offer");
        if (name.Dataset != dataset)
        {
            throw Refusal.Invalid($"offer '{offer}' is not an offer on {dataset.Name}.");
        }

        var found = Find(unit, name);
        if (found is null || (found.PrivateTo.Length > 0 && found.PrivateTo != caller.Participant))
        {
            throw Refusal.NotFound(offer, exists: found is not null);
        }

        return found.State == OfferState.Active
            ? found
            : throw Refusal.Precondition($"'{offer}' was withdrawn; accept one of the dataset's active offers (ListOffers).");
    }

    public bool Priced(WriteUnit unit, DatasetId dataset) =>
        unit.Command("SELECT 1 FROM offers WHERE dataset_id = @d LIMIT 1").With("@d", dataset.Value).ExecuteScalar() is not null;

    private static Offer? Find(WriteUnit unit, OfferName name) =>
        Rows(unit, name.Dataset, "o.id = @id", c => c.With("@id", name.Id)).SingleOrDefault();

    private static List<Offer> Rows(WriteUnit unit, DatasetId dataset, string where, Action<DbCommand> bind)
    {
        using var command = unit.Command($"{SelectOffers}{where} ORDER BY o.seq")
            .With("@d", dataset.Value);
        bind(command);
        using var reader = command.ExecuteReader();
        var offers = new List<Offer>();
        while (reader.Read())
        {
            offers.Add(Read(reader));
        }

        return offers;
    }

    private Task<List<Offer>> ReadAsync(DatasetId dataset, string where, Action<DbCommand> bind, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command($"{SelectOffers}{where} ORDER BY o.seq").With("@d", dataset.Value);
            bind(command);
            return await command.ListAsync(Read, ct);
        }, cancellationToken);

    /// <summary>The offer as made, with its state as it is now.</summary>
    private static Offer Read(DbDataReader reader)
    {
        var offer = Offer.Parser.ParseFrom((byte[])reader[0]);
        offer.State = (OfferState)reader.GetInt32(1);
        offer.WithdrawTime = reader.IsDBNull(2) ? null : Timestamps.FromMicros(reader.GetInt64(2));
        return offer;
    }
}
