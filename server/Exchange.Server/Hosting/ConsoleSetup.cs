using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

/// <summary>
/// The web console (console/Exchange.WebConsole, Blazor WebAssembly) at <see cref="Path"/>: its
/// static files, anonymous like any web page and holding no secret, under a strict
/// Content-Security-Policy; its sign-in settings; and gRPC-Web on every service, so the browser
/// calls the same services, with the same bearer tokens, policies and audit records as any other client.
/// </summary>
internal static class ConsoleSetup
{
    public const string Path = "/console";

    /// <summary>
    /// Only this origin's files and calls (and, with OIDC sign-in, calls to the authority's origin
    /// for its discovery document and token endpoint); WebAssembly may be compiled
    /// (<c>'wasm-unsafe-eval'</c>, which Blazor needs and which allows no JavaScript eval); no
    /// inline script or style, no framing.
    /// </summary>
    public static string ContentSecurityPolicy(ExchangeOptions options) =>
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; font-src 'self'; " +
        $"connect-src 'self'{(Oidc(options) is { } authority ? " " + authority.GetLeftPart(UriPartial.Authority) : "")}; " +
        "manifest-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Before authentication: the console's files are public, and gRPC-Web requests become gRPC ones.</summary>
    public static WebApplication UseExchangeConsole(this WebApplication app)
    {
        var policy = ContentSecurityPolicy(app.Services.GetRequiredService<IOptions<ExchangeOptions>>().Value);
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), console => console.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = policy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            if (context.Request.Path.Value == Path)
            {
                // The app's base is /console/: without the slash its relative links would point elsewhere.
                context.Response.Redirect($"{Path}/");
                return Task.CompletedTask;
            }

            return next(context);
        }));
        app.UseBlazorFrameworkFiles(Path);
        app.UseStaticFiles();
        // The console's calls: gRPC-Web (HTTP/1.1 or 2, from fetch) on the same host and port as gRPC.
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        return app;
    }

    /// <summary>
    /// The console's pages: any path under <see cref="Path"/> that is not a file is the app, which
    /// routes itself; and <c>settings.json</c>, how it signs in (no secret: an OIDC public client's id).
    /// </summary>
    public static WebApplication MapExchangeConsole(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ExchangeOptions>>().Value;
        var authority = Oidc(options);
        var settings = JsonSerializer.Serialize(new
        {
            oidc = authority is null ? null : new { authority = authority.ToString().TrimEnd('/'), clientId = options.Console.ClientId, scope = options.Console.Scope },
            tokenSignIn = options.Console.TokenSignIn ?? (app.Environment.IsDevelopment() || authority is null),
        });
        app.MapGet($"{Path}/settings.json", () => Results.Content(settings, "application/json")).AllowAnonymous();
        app.MapFallbackToFile($"{Path}/{{*path:nonfile}}", "console/index.html").AllowAnonymous();
        return app;
    }

    /// <summary>What cannot work: OIDC sign-in needs the authority the gateway trusts.</summary>
    public static IEnumerable<string> Problems(ExchangeOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Console.ClientId) && !Uri.TryCreate(options.Auth.Authority, UriKind.Absolute, out _))
        {
            yield return "Exchange:Console:ClientId needs Exchange:Auth:Authority (the OpenID Connect authority the console signs in with).";
        }
    }

    private static Uri? Oidc(ExchangeOptions options) =>
        !string.IsNullOrWhiteSpace(options.Console.ClientId) && Uri.TryCreate(options.Auth.Authority, UriKind.Absolute, out var authority) ? authority : null;
}
