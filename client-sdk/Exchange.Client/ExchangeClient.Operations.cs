using Exchange.Client.Audit;
using Exchange.Client.Billing;
using Exchange.Client.Transfers;
using Exchange.V1;

namespace Exchange.Client;

public sealed partial class ExchangeClient
{
    /// <summary>Creates a dataset as a draft, visible to its provider only until <see cref="PublishDatasetAsync"/>.</summary>
    /// <param name="dataset">Its title, description, tags and classification; the server sets the rest.</param>
    /// <param name="requestId">Makes retries idempotent: a repeated call with the same id returns the same dataset.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<Dataset> CreateDatasetAsync(Dataset dataset, string? requestId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return (await Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset, RequestId = requestId ?? "" },
            cancellationToken: cancellationToken).ConfigureAwait(false)).Dataset;
    }

    /// <summary>The dataset <paramref name="name"/> (<c>datasets/{id}</c>), when the caller may see it.</summary>
    public async Task<Dataset> GetDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        (await Catalog.GetDatasetAsync(new GetDatasetRequest { Name = name }, cancellationToken: cancellationToken).ConfigureAwait(false)).Dataset;

    /// <summary>Lists the draft dataset <paramref name="name"/> in the catalog (its provider only).</summary>
    public async Task<Dataset> PublishDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        (await Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = name }, cancellationToken: cancellationToken).ConfigureAwait(false)).Dataset;

    /// <summary>Takes the dataset <paramref name="name"/> out of the catalog (its provider, or an operator); holders of grants see <paramref name="reason"/>.</summary>
    public async Task<Dataset> DelistDatasetAsync(string name, string reason = "", CancellationToken cancellationToken = default) =>
        (await Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = name, Reason = reason }, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).Dataset;

    /// <summary>Asks the provider of <paramref name="dataset"/> (<c>datasets/{id}</c>) for access, for the purpose and terms in <paramref name="options"/>.</summary>
    public async Task<AccessRequest> RequestAccessAsync(string dataset, AccessRequestOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var request = new RequestAccessRequest { Dataset = dataset, Purpose = options.Purpose, RequestId = options.RequestId ?? "" };
        if (options.Terms is { } terms)
        {
            request.RequestedTerms = terms;
        }

        return (await Access.RequestAccessAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false)).AccessRequest;
    }

    /// <summary>
    /// Approves the access request <paramref name="name"/> (<c>accessRequests/{id}</c>) as its dataset's provider, and returns the grant
    /// made; <paramref name="terms"/>, when given, narrow the requested terms (they never widen them).
    /// </summary>
    public async Task<Grant> ApproveAccessRequestAsync(string name, Terms? terms = null, CancellationToken cancellationToken = default)
    {
        var request = new ApproveAccessRequestRequest { Name = name };
        if (terms is not null)
        {
            request.Terms = terms;
        }

        return (await Access.ApproveAccessRequestAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false)).Grant;
    }

    /// <summary>Rejects the access request <paramref name="name"/> as its dataset's provider; the consumer sees <paramref name="reason"/>.</summary>
    public async Task<AccessRequest> RejectAccessRequestAsync(string name, string reason, CancellationToken cancellationToken = default) =>
        (await Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = name, Reason = reason }, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).AccessRequest;

    /// <summary>Withdraws the caller's own pending access request <paramref name="name"/>.</summary>
    public async Task<AccessRequest> WithdrawAccessRequestAsync(string name, CancellationToken cancellationToken = default) =>
        (await Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = name }, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).AccessRequest;

    /// <summary>The grant <paramref name="name"/> (<c>grants/{id}</c>), when the caller may see it.</summary>
    public async Task<Grant> GetGrantAsync(string name, CancellationToken cancellationToken = default) =>
        (await Access.GetGrantAsync(new GetGrantRequest { Name = name }, cancellationToken: cancellationToken).ConfigureAwait(false)).Grant;

    /// <summary>Revokes the grant <paramref name="name"/> as its provider: downloads under it stop, also those under way.</summary>
    public async Task<Grant> RevokeGrantAsync(string name, string reason, CancellationToken cancellationToken = default) =>
        (await Access.RevokeGrantAsync(new RevokeGrantRequest { Name = name, Reason = reason }, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).Grant;

    /// <summary>
    /// Cancels the renewal of the auto-renewing subscription <paramref name="name"/> (<c>grants/{id}</c>) as its consumer, and
    /// returns the grant once the receipt proves the cancellation is in the trusted log: a successful <c>grant.cancel_renewal</c>
    /// of this grant whose one <c>end_time</c> is the end of the period under way when it was logged, and the end the grant now shows. Keep the receipt (<see cref="CancelledRenewal.Receipt"/>):
    /// it proves, without the gateway, that no period after that end is owed. A failed check is a <see cref="VerificationException"/>.
    /// </summary>
    public async Task<CancelledRenewal> CancelGrantRenewalAsync(string name, CancellationToken cancellationToken = default)
    {
        var response = await Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = name }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (response.Receipt is null)
        {
            const string Message = "The gateway cancelled the renewal but sent no receipt for it (its log's store failed just then); call again for one.";
            throw new VerificationException(ReceiptVerification.Failed(VerificationCheck.Incomplete, Message), Message);
        }

        var grant = response.Grant;
        if (grant?.Name != name || grant.RenewalCancelTime is null || grant.CreateTime is null || grant.Terms?.Offer is not { PeriodMonths: > 0 and <= 36 } offer)
        {
            const string Message = "The gateway's answer does not show this grant with its renewal cancelled.";
            throw new VerificationException(ReceiptVerification.Failed(VerificationCheck.Event, Message), Message);
        }

        var end = grant.Terms.ExpireTime?.ToDateTimeOffset();
        var verified = await _logTrust.VerifyAsync(response.Receipt, record =>
        {
            if (record.Action != "grant.cancel_renewal" || record.Resource != name || record.Outcome != AuditOutcome.Success || record.Time is null)
            {
                return (VerificationCheck.Event, $"the receipt's event is {record.Action} of {record.Resource} ({record.Outcome}), not the cancelled renewal of {name}");
            }

            var periodEnd = CancelledRenewalEnd.PeriodUnderWay(grant.CreateTime.ToDateTimeOffset(), offer.PeriodMonths, record.Time.ToDateTimeOffset());
            var logged = string.Join(", ", record.Details.Where(d => d.Key == "end_time").Select(d => d.Value));
            return CancelledRenewalEnd.Logged(record) != periodEnd || end != periodEnd
                ? (VerificationCheck.Event, $"the logged end ({logged}) and the end the grant shows ({end:O}) are not {periodEnd:O}, "
                    + "the end of the period under way when the cancellation was logged")
                : null;
        }, $"the cancelled renewal of {name}", cancellationToken).ConfigureAwait(false);
        verified.ThrowIfFailed();
        return new CancelledRenewal(grant, response.Receipt, verified);
    }

    /// <summary>
    /// Verifies the whole audit log (see <see cref="AuditLogVerifier"/>): the checkpoint's signature, its consistency with the
    /// last trusted one, and every event against the signed root. The key and trusted checkpoints are
    /// <paramref name="options"/>' or else this client's (<see cref="ExchangeClientOptions.AuditLogKey"/>,
    /// <see cref="ExchangeClientOptions.TrustedCheckpoints"/>). A failure is returned, not thrown, so it can be
    /// shown in full; <see cref="AuditVerification.ThrowIfFailed"/> turns it into a <see cref="VerificationException"/>.
    /// </summary>
    public Task<AuditVerification> VerifyAuditLogAsync(AuditLogVerifyOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AuditLogVerifyOptions();
        return new AuditLogVerifier(this).VerifyAsync(options.AuditLogKey ?? _options.AuditLogKey,
            options.TrustedCheckpoints ?? _options.TrustedCheckpoints, options.Progress, cancellationToken);
    }
}
