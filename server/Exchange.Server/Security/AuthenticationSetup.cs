using Exchange.Server.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

internal static class AuthenticationSetup
{
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// JWT bearer authentication with issuer, audience, lifetime and algorithms pinned; a
    /// fallback policy that makes every endpoint require an authenticated caller unless it is
    /// explicitly marked anonymous (health and reflection only); and the role policies of the
    /// exchange.v1 services (a participant role) and of the metrics endpoint (the metrics role).
    /// </summary>
    public static IServiceCollection AddExchangeAuthentication(this IServiceCollection services, AuthOptions options, TlsOptions tls, IHostEnvironment environment)
    {
        if (options.RequireBoundTokens && tls.ClientCertificates != "required")
        {
            throw new StartupException(
                $"Exchange:Auth:RequireBoundTokens needs Exchange:Tls:ClientCertificates=required (it is '{tls.ClientCertificates}'): " +
                "a bound token can only be checked against the certificate every connection must present.");
        }

        if (string.IsNullOrWhiteSpace(options.Issuer) && string.IsNullOrWhiteSpace(options.Authority))
        {
            throw new StartupException("Exchange:Auth:Issuer (or Exchange:Auth:Authority) must be configured.");
        }

        if (options.MaxTokenLifetime <= TimeSpan.Zero)
        {
            throw new StartupException($"{TokenLifetime.Setting} must be positive, not {options.MaxTokenLifetime}.");
        }

        var algorithms = options.Algorithms.Count > 0 ? options.Algorithms.ToArray() : [SecurityAlgorithms.EcdsaSha256];
        var issuers = new IssuerBinding(options);
        var keys = new SigningKeyRing(options.SigningKeyFiles, options.KeyRefreshInterval, TimeProvider.System, DevKeyGuard.IsDevKey(environment));
        services.AddSingleton(keys);

        services
            .AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.IncludeErrorDetails = false;
                if (!string.IsNullOrWhiteSpace(options.Authority))
                {
                    jwt.Authority = options.Authority;
                }

                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateIssuer = true,
                    ValidIssuer = string.IsNullOrWhiteSpace(options.Issuer) ? null : options.Issuer,
                    ValidateAudience = true,
                    ValidAudience = options.Audience,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateIssuerSigningKey = true,
                    // Resolved per token, so rotated key files apply at once: the files' keys for Exchange:Auth:Issuer, the authority's
                    // JWKS (rotated by the handler) for its issuer, only the key a kid names; and never every key when none fits.
                    IssuerSigningKeyResolverUsingConfiguration = (_, token, kid, _, configuration) => issuers.KeysFor(token, kid, keys, configuration),
                    TryAllIssuerSigningKeys = false,
                    ValidAlgorithms = algorithms,
                    ClockSkew = options.ClockSkew > MaxClockSkew ? MaxClockSkew : options.ClockSkew,
                    NameClaimType = ExchangeClaims.Subject,
                    RoleClaimType = ExchangeClaims.Roles,
                };
                jwt.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        var subject = context.Principal?.FindFirst(ExchangeClaims.Subject)?.Value;
                        if (!ParticipantId.IsValid(subject))
                        {
                            context.Fail($"the token's 'sub' must name a participant ({ParticipantId.Rule})");
                        }
                        else if (issuers.Problem(subject!, context.SecurityToken.Issuer) is { } wrongIssuer)
                        {
                            context.Fail(wrongIssuer);
                        }
                        else if (TokenLifetime.Problem(context.SecurityToken, context.Options.TimeProvider?.GetUtcNow() ?? DateTimeOffset.UtcNow,
                            options.MaxTokenLifetime) is { } tooLong)
                        {
                            context.Fail(tooLong);
                        }
                        else if (CertificateBinding.Problem(context.Principal!, context.HttpContext.Connection.ClientCertificate) is { } problem)
                        {
                            context.Fail(problem);
                        }
                        else if (options.RequireBoundTokens
                            && CertificateBinding.RequiredProblem(context.Principal!, subject!, context.HttpContext.Connection.ClientCertificate) is { } unbound)
                        {
                            context.Fail(unbound);
                        }

                        return Task.CompletedTask;
                    },
                    OnChallenge = GrpcChallenge.WriteAsync,
                };
            });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Participant, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Participant))
            .AddPolicy(Policies.Metrics, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Metrics));
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, GrpcForbidden>();

        return services;
    }
}
