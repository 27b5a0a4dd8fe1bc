using System.Security.Cryptography;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Security;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Compute;

/// <summary>
/// exchange.v1.ComputeService: a query is admitted (caller, grant, rule, budget, which under
/// privacy it spends there) by the <see cref="ComputeStore"/>, run by the <see cref="ComputeEngine"/>,
/// then recorded with its result's hash; only then is the answer sent, with a receipt for its event.
/// </summary>
internal sealed partial class ComputeService(ComputeStore store, ComputeEngine engine, QuerySlots slots, INoiseSource noise, AuditStore audit,
    CheckpointSigner signer, Observability.ExchangeTelemetry telemetry, ILogger<ComputeService> logger)
    : V1.ComputeService.ComputeServiceBase
{
    public override async Task<V1.RunQueryResponse> RunQuery(V1.RunQueryRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var grant = GrantId.Parse(request.Grant, "grant");
        RevisionId? revision = request.Revision.Length == 0 ? null : RevisionId.Parse(request.Revision, "revision");
        var ask = request.QueryCase == V1.RunQueryRequest.QueryOneofCase.Structured
            ? new Model.QueryAsk("structured", JsonFormatter.Default.Format(request.Structured), Sha256(request.Structured.ToByteArray()),
                () => ComputeMapping.FromProto(request.Structured))
            : new Model.QueryAsk("sql", request.Sql, Sha256(System.Text.Encoding.UTF8.GetBytes(request.Sql)), () => QueryParser.Parse(request.Sql));
        // Taken before admission, so a query refused for it spends nothing; held until the answer is recorded.
        var (slot, busy) = slots.Take(caller.Participant);
        using var held = slot;
        var admitted = Errors.Allowed(await store.AdmitAsync(caller, grant, revision, ask, busy, context.CancellationToken), telemetry);
        if (admitted.Refused is { } refused)
        {
            if (refused == busy)
            {
                telemetry.Denied("too_many_queries", Audit.AuditActions.ComputeQuery);
            }

            throw refused;
        }

        Model.QueryAnswer answer;
        try
        {
            answer = await engine.RunAsync(admitted.Revision!, admitted.Grant!.Terms.Analysis!, admitted.Query!, noise, context.CancellationToken);
        }
        catch (Exception ex)
        {
            // Every admitted query ends in the log, a failed or abandoned one too; an error itself goes on as INTERNAL, to the server log.
            await store.RecordFailureAsync(caller, admitted, ex switch
            {
                OperationCanceledException => "the caller went before the answer",
                RpcException status => status.Status.Detail.TrimEnd('.'),
                _ => "the query failed in the engine",
            });
            throw;
        }

        var result = answer.ToProto();
        var sha256 = SHA256.HashData(result.ToByteArray());
        // Not the caller's token: an answer computed is recorded (or refused and recorded) even if the caller has gone.
        var record = Errors.Allowed(await store.RecordAsync(caller, admitted, answer, ask.Sha256, Convert.ToHexStringLower(sha256), CancellationToken.None),
            telemetry);
        if (record.Refused is { } dropped)
        {
            throw dropped;
        }

        var response = new V1.RunQueryResponse
        {
            Result = result,
            Query = admitted.Text,
            Revision = admitted.Revision!.Revision.Id.Name,
            EpsilonSpentMillis = record.SpentMillis,
            EpsilonRemainingMillis = record.Budget?.RemainingMillis ?? 0,
            ResultSha256 = ByteString.CopyFrom(sha256),
            EventIndex = record.AuditIndex,
        };
        try
        {
            response.Receipt = await audit.ReceiptAsync(record.AuditIndex, signer, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The answer is recorded and charged: failing the call now would charge for an answer never given.
            // Its event is in the log, to be proven once the store takes writes again.
            LogReceiptFailed(ex, record.AuditIndex);
        }

        return response;
    }

    public override async Task<V1.AddQueryBudgetResponse> AddQueryBudget(V1.AddQueryBudgetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var grant = GrantId.Parse(request.Grant, "grant");
        if (request.EpsilonMillis is < 1 or > Tables.AnalysisRuleValidation.MaxEpsilonMillis)
        {
            throw Errors.InvalidArgument($"epsilon_millis must be from 1 to {Tables.AnalysisRuleValidation.MaxEpsilonMillis} (thousandths of epsilon), not {request.EpsilonMillis}.");
        }

        var reason = request.Reason.Trim();
        if (reason.Length == 0)
        {
            throw Errors.InvalidArgument("reason is required to add budget; the consumer and the audit log see it.");
        }

        var budget = Errors.Allowed(await store.AddBudgetAsync(caller, grant, request.EpsilonMillis, reason, context.CancellationToken), telemetry);
        return new V1.AddQueryBudgetResponse { Budget = budget.ToProto() };
    }

    private static string Sha256(byte[] sent) => Convert.ToHexStringLower(SHA256.HashData(sent));

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning,
        Message = "A query's answer was recorded as audit event {Index} but its receipt could not be made; it is sent without one")]
    private partial void LogReceiptFailed(Exception exception, long index);
}
