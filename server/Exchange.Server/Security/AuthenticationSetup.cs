using Exchange.Server.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
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
    /// The handler's options are made from the validated Exchange:Auth (<see cref="Problems"/>) when first needed.
    /// </summary>
    public static IServiceCollection AddExchangeAuthentication(this IServiceCollection services)
    {
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Auth;
            return new SigningKeyRing(options.SigningKeyFiles, options.KeyRefreshInterval, provider.GetRequiredService<TimeProvider>(),
                DevKeyGuard.IsDevKey(provider.GetRequiredService<IHostEnvironment>()), provider.GetRequiredService<ILogger<SigningKeyRing>>());
        });
        services.AddSingleton(provider => new IssuerBinding(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Auth));
        services.AddSingleton(provider => new CachingTokenHandler(provider.GetRequiredService<TimeProvider>()) { MapInboundClaims = false });
        services.AddHostedService<SigningKeysAtStart>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<ExchangeOptions>, SigningKeyRing, IssuerBinding, TimeProvider, CachingTokenHandler>((jwt, exchange, keys, issuers, time, tokens) =>
            {
                var options = exchange.Value.Auth;
                var algorithms = options.Algorithms.Count > 0 ? options.Algorithms.ToArray() : [SecurityAlgorithms.EcdsaSha256];
                jwt.TimeProvider = time;
                jwt.MapInboundClaims = false;
                jwt.TokenHandlers.Clear();
                jwt.TokenHandlers.Add(tokens);
                jwt.IncludeErrorDetails = false;
                // Nothing reads the raw token back from the authentication result; storing it cost every call an allocation.
                jwt.SaveToken = false;
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
                    // Token lifetimes are judged on the gateway's clock, like every other time it reads.
                    LifetimeValidator = (notBefore, expires, _, parameters) => TokenLifetime.Validate(notBefore, expires, time.GetUtcNow(), parameters.ClockSkew),
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
                        else if (TokenLifetime.Problem(context.SecurityToken, time.GetUtcNow(), options.MaxTokenLifetime) is { } tooLong)
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

    /// <summary>What cannot work in Exchange:Auth, alone or with the TLS settings it needs.</summary>
    public static IEnumerable<string> Problems(AuthOptions options, TlsOptions tls)
    {
        if (options.RequireBoundTokens && tls.ClientCertificates != "required")
        {
            yield return $"Exchange:Auth:RequireBoundTokens needs Exchange:Tls:ClientCertificates=required (it is '{tls.ClientCertificates}'): " +
                "a bound token can only be checked against the certificate every connection must present.";
        }

        if (string.IsNullOrWhiteSpace(options.Issuer) && string.IsNullOrWhiteSpace(options.Authority))
        {
            yield return "Exchange:Auth:Issuer (or Exchange:Auth:Authority) must be configured.";
        }

        if (options.MaxTokenLifetime <= TimeSpan.Zero)
        {
            yield return $"{TokenLifetime.Setting} must be positive, not {options.MaxTokenLifetime}.";
        }

        foreach (var problem in IssuerBinding.Problems(options))
        {
            yield return problem;
        }
    }

    /// <summary>Loads the token signing keys as the host starts, so a missing or malformed key stops the start with a clear message.</summary>
    private sealed class SigningKeysAtStart(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<SigningKeyRing>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
