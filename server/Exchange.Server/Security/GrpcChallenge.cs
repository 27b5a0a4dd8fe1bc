using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// Answers a failed authentication on a gRPC call with a trailers-only UNAUTHENTICATED
/// response whose message says what to fix, instead of a bare HTTP 401.
/// </summary>
internal static class GrpcChallenge
{
    public static Task WriteAsync(JwtBearerChallengeContext context)
    {
        var http = context.HttpContext;
        if (!GrpcRefusal.IsGrpc(http.Request) || http.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.HandleResponse();
        http.RequestServices.GetService<Observability.ExchangeTelemetry>()?.Denied("unauthenticated");
        GrpcRefusal.Write(http.Response, GrpcRefusal.Unauthenticated, Describe(context));
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    private static string Describe(JwtBearerChallengeContext context) => context.AuthenticateFailure switch
    {
        null => "A bearer token is required: send 'authorization: Bearer <token>'.",
        SecurityTokenExpiredException => "The bearer token has expired.",
        SecurityTokenNotYetValidException => "The bearer token is not valid yet (nbf is in the future).",
        SecurityTokenNoExpirationException => "The bearer token has no expiry (exp).",
        SecurityTokenInvalidIssuerException => "The bearer token's issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "The bearer token's audience is not accepted.",
        SecurityTokenInvalidAlgorithmException => "The bearer token's signing algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            "The bearer token's signature does not verify with any trusted key.",
        AuthenticationFailureException failure => $"The bearer token was refused: {failure.Message}.",
        _ => "The bearer token is invalid.",
    };
}
