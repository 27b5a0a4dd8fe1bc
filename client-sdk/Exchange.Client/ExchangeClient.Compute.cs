using System.Security.Cryptography;
using Exchange.Client.Compute;
using Exchange.Client.Transfers;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Client;

public sealed partial class ExchangeClient
{
    /// <summary>
    /// Runs <paramref name="sql"/> under the compute grant <paramref name="grant"/> and returns the
    /// answer once it checks: the result's SHA-256 is the one the gateway logged, and the receipt
    /// proves that event is in the signed log (<see cref="VerifyQueryReceiptAsync"/>). A mismatch is a
    /// <see cref="VerificationException"/> saying which check failed.
    /// </summary>
    /// <param name="grant">The grant, <c>grants/{id}</c>.</param>
    /// <param name="sql">One aggregate query over the table <c>data</c> (see RunQueryRequest.sql).</param>
    /// <param name="revision">The revision to query; null: the dataset's latest.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<RunQueryResponse> RunQueryAsync(string grant, string sql, string? revision = null, CancellationToken cancellationToken = default)
    {
        var response = await Compute.RunQueryAsync(new RunQueryRequest { Grant = grant, Sql = sql, Revision = revision ?? "" },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var sha256 = SHA256.HashData(response.Result.ToByteArray());
        if (!sha256.AsSpan().SequenceEqual(response.ResultSha256.Span))
        {
            ReceiptVerification.Failed(VerificationCheck.Sha256, "the result's SHA-256 is not the one the gateway says it logged").ThrowIfFailed();
        }

        if (revision is not null && response.Revision != revision)
        {
            ReceiptVerification.Failed(VerificationCheck.Revision, $"the answer is over {response.Revision}, not {revision} as asked").ThrowIfFailed();
        }

        var verified = await VerifyQueryReceiptAsync(response.Receipt, new ExpectedQuery(grant, response.Revision, response.Query, sha256), cancellationToken)
            .ConfigureAwait(false);
        verified.ThrowIfFailed();
        return response;
    }

    /// <summary>Verifies a query's receipt against what this client trusts, as <see cref="VerifyReceiptAsync"/> does a transfer's.</summary>
    public Task<ReceiptVerification> VerifyQueryReceiptAsync(TransferReceipt receipt, ExpectedQuery expected, CancellationToken cancellationToken = default) =>
        _logTrust.VerifyAsync(receipt, expected, cancellationToken);

    /// <summary>
    /// Every privacy budget the caller may read the events of, recomputed from the audit log alone
    /// (<see cref="BudgetLedger"/>): from each event's leaf, the bytes the log hashed, not its decoded copy.
    /// </summary>
    /// <param name="dataset">Only grants on this dataset (<c>datasets/{id}</c>); null: all.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public async Task<IReadOnlyDictionary<string, BudgetAccount>> RecomputeBudgetsAsync(string? dataset = null, CancellationToken cancellationToken = default)
    {
        var records = new List<(long Index, AuditRecord Record)>();
        foreach (var action in BudgetLedger.Actions)
        {
            await foreach (var e in EnumerateAuditEventsAsync(new ListAuditEventsRequest { Action = action, Dataset = dataset ?? "", PageSize = 1000 },
                cancellationToken).ConfigureAwait(false))
            {
                records.Add((e.Index, AuditRecord.Parser.ParseFrom(e.Leaf)));
            }
        }

        return BudgetLedger.Accounts(records.OrderBy(r => r.Index).Select(r => r.Record));
    }
}
