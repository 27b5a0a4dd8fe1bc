using System.Text;
using System.Text.Json;
using Microsoft.JSInterop;

namespace Exchange.WebConsole.Services;

/// <summary>
/// Who is signed in, in this browser tab: the bearer token and what it claims (participant and
/// roles, read for display only: the gateway decides every call). Kept in memory and in the
/// tab's sessionStorage, so a reload keeps it and closing the tab forgets it; never localStorage
/// or cookies.
/// </summary>
internal sealed class Session(IJSRuntime js)
{
    private const string TokenKey = "exchange.token";
    private bool _restored;

    public event Action? Changed;

    public string? Token { get; private set; }

    public string Participant { get; private set; } = "";

    public IReadOnlyList<string> Roles { get; private set; } = [];

    public DateTimeOffset? Expires { get; private set; }

    public bool SignedIn => Token is not null;

    public bool Has(string role) => Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>Reads the token kept for this tab, once per page load.</summary>
    public async Task RestoreAsync()
    {
        if (_restored)
        {
            return;
        }

        _restored = true;
        var token = await js.InvokeAsync<string?>("sessionStorage.getItem", TokenKey);
        if (token is not null && Decode(token) is { } claims && claims.Expires > DateTimeOffset.UtcNow)
        {
            Apply(token, claims);
        }
    }

    /// <summary>Takes a token (e.g. from <c>exchange token</c>); null and a reason when it is not a JWT with a subject.</summary>
    public async Task<string?> SignInAsync(string token)
    {
        token = token.Trim();
        if (token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = token[7..].Trim();
        }

        if (Decode(token) is not { } claims)
        {
            return "That is not a token: paste the output of `exchange token --participant NAME --role ROLE`.";
        }

        if (claims.Expires is { } expires && expires <= DateTimeOffset.UtcNow)
        {
            return "That token has expired; make a new one.";
        }

        Apply(token, claims);
        await js.InvokeVoidAsync("sessionStorage.setItem", TokenKey, token);
        return null;
    }

    public async Task SignOutAsync()
    {
        Token = null;
        Participant = "";
        Roles = [];
        Expires = null;
        await js.InvokeVoidAsync("sessionStorage.removeItem", TokenKey);
        Changed?.Invoke();
    }

    private void Apply(string token, Claims claims)
    {
        Token = token;
        Participant = claims.Subject;
        Roles = claims.Roles;
        Expires = claims.Expires;
        Changed?.Invoke();
    }

    private sealed record Claims(string Subject, IReadOnlyList<string> Roles, DateTimeOffset? Expires);

    /// <summary>The payload of a JWT, read without checking its signature (the gateway checks it on every call).</summary>
    private static Claims? Decode(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            var root = json.RootElement;
            if (!root.TryGetProperty("sub", out var sub) || sub.GetString() is not { Length: > 0 } subject)
            {
                return null;
            }

            var roles = new List<string>();
            if (root.TryGetProperty("roles", out var r))
            {
                if (r.ValueKind == JsonValueKind.Array)
                {
                    roles.AddRange(r.EnumerateArray().Select(e => e.GetString() ?? "").Where(s => s.Length > 0));
                }
                else if (r.ValueKind == JsonValueKind.String)
                {
                    roles.AddRange((r.GetString() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
                }
            }

            DateTimeOffset? expires = root.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
            return new Claims(subject, roles, expires);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
