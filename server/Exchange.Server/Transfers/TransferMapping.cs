using Exchange.Server.Transfers.Model;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Transfers;

/// <summary>Transfers and revisions to the contract's messages, at the edge.</summary>
internal static class TransferMapping
{
    public static V1.Transfer ToProto(this Transfer transfer) => new()
    {
        Name = transfer.Id.Name,
        Grant = transfer.Grant.Name,
        Dataset = transfer.Dataset.Name,
        Revision = transfer.Revision?.Name ?? "",
        Consumer = transfer.Consumer,
        Provider = transfer.Provider,
        Purpose = transfer.Purpose,
        State = (V1.TransferState)(int)transfer.State,
        SizeBytes = transfer.SizeBytes,
        BytesSent = transfer.BytesSent,
        CreateTime = Timestamp.FromDateTimeOffset(transfer.CreateTime),
        EndTime = transfer.EndTime is { } end ? Timestamp.FromDateTimeOffset(end) : null,
        FailureReason = transfer.FailureReason,
    };
}
