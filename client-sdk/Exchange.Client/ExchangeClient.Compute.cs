using System.Security.Cryptography;
using Exchange.Client.Compute;
using Exchange.Client.Transfers;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Client;

public sealed partial class ExchangeClient
{
    /// <summary>
    /// Runs <paramref name="sql"/> under the compute grant <paramref name="grant"/> and returns the
    /// answer once it checks: the result's SHA-256 is the one the gateway logged, for a request whose
    /// SHA-256 is that of this <paramref name="sql"/>, and the receipt proves that event is in the
    /// signed log (<see cref="VerifyQueryReceiptAsync"/>). A mismatch is a
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

        if (response.Receipt is null)
        {
            response.Receipt = await ProveUnprovenAsync(response, cancellationToken).ConfigureAwait(false);
        }

        var asked = new ExpectedQuery(grant, response.Revision, response.Query, sha256) { RequestSha256 = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sql)) };
        var verified = await VerifyQueryReceiptAsync(response.Receipt, asked, cancellationToken)
            .ConfigureAwait(false);
        verified.ThrowIfFailed();
        return response;
    }

    /// <summary>
    /// The receipt of a query the gateway answered without one (it recorded the answer, and charged
    /// for it, but could not prove its event just then), made from the log: the event at the answer's
    /// event_index, the newest signed checkpoint and the event's inclusion proof. Null while no signed
    /// checkpoint includes the event yet. <see cref="RunQueryAsync"/> calls it for such an answer; call
    /// it later with <see cref="VerificationException.UnprovenAnswer"/> when that call could not, and
    /// verify what it returns with <see cref="VerifyQueryReceiptAsync"/>.
    /// </summary>
    /// <param name="answer">The answer, with its event_index.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public async Task<TransferReceipt?> ProveQueryAsync(RunQueryResponse answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var logged = await EventAtAsync(answer.EventIndex, cancellationToken).ConfigureAwait(false);
        var checkpoint = (await Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Checkpoint;
        if (logged is null || checkpoint is null || checkpoint.Size <= logged.Index)
        {
            return null;
        }

        var proof = await Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = logged.Index, TreeSize = checkpoint.Size },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var receipt = new TransferReceipt { Event = logged, Checkpoint = checkpoint };
        receipt.InclusionProof.Add(proof.Hashes);
        return receipt;
    }

    private async Task<TransferReceipt> ProveUnprovenAsync(RunQueryResponse answer, CancellationToken cancellationToken)
    {
        string why;
        try
        {
            if (await ProveQueryAsync(answer, cancellationToken).ConfigureAwait(false) is { } receipt)
            {
                return receipt;
            }

            why = "no signed checkpoint includes it yet";
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            why = $"the gateway could not prove it ({ex.StatusCode}: {ex.Status.Detail})";
        }

        var message = $"The gateway answered the query and logged it as event {answer.EventIndex} without a receipt, and {why}; "
            + "the answer is in UnprovenAnswer, to prove with ProveQueryAsync later.";
        throw new VerificationException(ReceiptVerification.Failed(VerificationCheck.Incomplete, message), message) { UnprovenAnswer = answer };
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
