using Exchange.Server.Observability;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Participants;

/// <summary>
/// exchange.v1.ParticipantService: parses and validates each request, runs the participant store's operation under
/// <see cref="ParticipantPolicy"/>, and tells this replica's <see cref="Suspensions"/> of a change
/// as soon as it commits (other replicas hear of it through the database's announcement).
/// </summary>
internal sealed class ParticipantService(ParticipantStore store, Suspensions suspensions, PageTokens pageTokens, ExchangeTelemetry telemetry)
    : V1.ParticipantService.ParticipantServiceBase
{
    public override async Task<GetParticipantResponse> GetParticipant(GetParticipantRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = ParticipantNames.Parse(request.Name);
        if (!ParticipantPolicy.CanSee(caller, id))
        {
            throw Errors.PermissionDenied($"Only '{id}' itself, auditors and operators may read its state.");
        }

        var participant = await store.GetAsync(id, context.CancellationToken);
        return new GetParticipantResponse { Participant = participant.ToProto() };
    }

    public override async Task<ListParticipantsResponse> ListParticipants(ListParticipantsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize);
        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known participant state.");
        }

        if (!ParticipantPolicy.CanList(caller))
        {
            throw Errors.PermissionDenied("Only auditors and operators may list participants; a participant may get its own state.");
        }

        var scope = string.Join('\n', "ListParticipants", caller.Participant, (int)request.State);
        var (page, next) = await store.ListAsync(ParticipantMapping.FromProto(request.State), pageTokens.Decode(request.PageToken, scope), pageSize,
            context.CancellationToken);
        var response = new ListParticipantsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Participants.Add(page.Select(p => p.ToProto()));
        return response;
    }

    public override async Task<SuspendParticipantResponse> SuspendParticipant(SuspendParticipantRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = ParticipantNames.Parse(request.Name);
        var reason = request.Reason.Trim();
        if (reason.Length == 0)
        {
            throw Errors.InvalidArgument("reason is required to suspend; the participant and the audit log see it.");
        }

        var (participant, state) = Errors.Allowed(await store.SuspendAsync(caller, id, reason, context.CancellationToken), telemetry);
        suspensions.Apply(state.Participant, state.Version, state.Suspended, state.Reason);
        return new SuspendParticipantResponse { Participant = participant.ToProto() };
    }

    public override async Task<ReinstateParticipantResponse> ReinstateParticipant(ReinstateParticipantRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = ParticipantNames.Parse(request.Name);
        var (participant, state) = Errors.Allowed(await store.ReinstateAsync(caller, id, request.Reason.Trim(), context.CancellationToken),
            telemetry);
        suspensions.Apply(state.Participant, state.Version, state.Suspended, state.Reason);
        return new ReinstateParticipantResponse { Participant = participant.ToProto() };
    }
}
