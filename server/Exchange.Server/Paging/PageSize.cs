using Grpc.Core;

namespace Exchange.Server.Paging;

internal static class PageSize
{
    /// <summary>AIP-158: 0 means the default, a larger request than the maximum is capped, a negative one is an error.</summary>
    public static int Resolve(int requested, int defaultSize = 50, int maxSize = 500)
    {
        if (requested < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"page_size must not be negative (got {requested}); use 0 for the default of {defaultSize}."));
        }

        return requested == 0 ? defaultSize : Math.Min(requested, maxSize);
    }
}
