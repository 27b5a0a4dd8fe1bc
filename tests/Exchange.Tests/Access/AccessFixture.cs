using Exchange.Client;
using Exchange.V1;

namespace Exchange.Tests.Access;

internal static class AccessFixture
{
    public static async Task<AccessRequest> RequestAsync(this ExchangeClient consumer, Dataset dataset, string purpose = "research",
        Terms? terms = null) =>
        (await consumer.Access.RequestAccessAsync(new RequestAccessRequest
        {
            Dataset = dataset.Name,
            Purpose = purpose,
            RequestedTerms = terms,
        })).AccessRequest;

    public static async Task<Grant> ApproveAsync(this ExchangeClient provider, AccessRequest request, Terms? terms = null) =>
        (await provider.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name, Terms = terms })).Grant;
}
