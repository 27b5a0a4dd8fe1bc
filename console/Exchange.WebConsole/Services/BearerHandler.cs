using System.Net.Http.Headers;

namespace Exchange.WebConsole.Services;

/// <summary>Adds the session's token to each gRPC-Web request as <c>Authorization: Bearer</c>.</summary>
internal sealed class BearerHandler(Session session) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (session.Token is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
