namespace Exchange.Server.Audit;

/// <summary>The action names recorded in the log (AuditRecord.action).</summary>
internal static class AuditActions
{
    /// <summary>The actor of what the gateway does on its own (e.g. failing an orphaned transfer); never a participant id, which has no ':'.</summary>
    public const string GatewayActor = "exchange:gateway";

    public const string DatasetCreate = "dataset.create";
    public const string DatasetUpdate = "dataset.update";
    public const string DatasetPublish = "dataset.publish";
    public const string DatasetDelist = "dataset.delist";
    public const string AccessRequest = "access.request";
    public const string AccessApprove = "access.approve";
    public const string AccessReject = "access.reject";
    public const string AccessWithdraw = "access.withdraw";
    public const string GrantRevoke = "grant.revoke";
    public const string GrantCancelRenewal = "grant.cancel_renewal";
    public const string RevisionUpload = "revision.upload";
    public const string TransferStart = "transfer.start";
    public const string TransferResume = "transfer.resume";
    public const string TransferComplete = "transfer.complete";
    public const string TransferFail = "transfer.fail";
    public const string TransferPreview = "transfer.preview";
    public const string ComputeAdmit = "compute.admit";
    public const string ComputeQuery = "compute.query";
    public const string ComputeBudget = "compute.budget";
    public const string RightRegister = "right.register";
    public const string RightObject = "right.object";
    public const string RightResolveObjection = "right.resolve_objection";
    public const string RightApprove = "right.approve";
    public const string RightReject = "right.reject";
    public const string RightLicense = "right.license";
    public const string RightTransferOffer = "right.transfer_offer";
    public const string RightTransferAccept = "right.transfer_accept";
    public const string RightChange = "right.change";
    public const string RightRenew = "right.renew";
    public const string RightCancel = "right.cancel";
    public const string LineageDerive = "lineage.derive";
    public const string LineageFlag = "lineage.flag";
    public const string OfferCreate = "offer.create";
    public const string OfferWithdraw = "offer.withdraw";
    public const string BillingCharge = "billing.charge";
    public const string BillingClose = "billing.close";
    public const string BillingPaid = "billing.paid";
    public const string ParticipantSuspend = "participant.suspend";
    public const string ParticipantReinstate = "participant.reinstate";
}
