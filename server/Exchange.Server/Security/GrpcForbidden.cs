using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Exchange.Server.Security;

/// <summary>
/// Answers an authenticated gRPC call that its endpoint's policy refuses (a token without a
/// participant role) with a trailers-only PERMISSION_DENIED whose message names the roles the
/// call needs and those the token has, instead of a bare HTTP 403. Everything else, including
/// plain HTTP endpoints such as <c>/metrics</c>, is answered as ASP.NET Core always does.
/// </summary>
internal sealed class GrpcForbidden : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden || !GrpcRefusal.IsGrpc(context.Request) || context.Response.HasStarted)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        context.RequestServices.GetService<Observability.ExchangeTelemetry>()?.Denied("permission_denied");
        GrpcRefusal.Write(context.Response, GrpcRefusal.PermissionDenied, Describe(context, authorizeResult));
        return Task.CompletedTask;
    }

    private static string Describe(HttpContext context, PolicyAuthorizationResult result)
    {
        var needed = result.AuthorizationFailure?.FailedRequirements.OfType<RolesAuthorizationRequirement>().FirstOrDefault()?.AllowedRoles.ToList();
        if (needed is null || needed.Count == 0)
        {
            return "This token may not make this call.";
        }

        // The token's roles are echoed back bounded and clean: a signed token is still the caller's text.
        var held = context.User.FindAll(ExchangeClaims.Roles).Select(c => c.Value)
            .Where(r => Validation.RequestText.Problem(r, new Validation.TextRule(32)) is null).Take(8).ToList();
        var has = held.Count == 0 ? "no roles" : $"only {string.Join(", ", held)}";
        var roles = needed.Count == 1 ? $"the role {needed[0]}" : $"one of the roles {string.Join(", ", needed.Take(needed.Count - 1))} or {needed[^1]}";
        return $"This call needs a token with {roles} in its 'roles' claim; this token has {has}.";
    }
}
