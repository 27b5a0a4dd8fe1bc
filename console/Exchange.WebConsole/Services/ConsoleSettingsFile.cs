using System.Net.Http.Json;
using System.Text.Json;

namespace Exchange.WebConsole.Services;

/// <summary>Reads <c>settings.json</c>; a gateway that serves none gets token sign-in only.</summary>
internal static class ConsoleSettingsFile
{
    public static async Task<ConsoleSettings> ReadAsync(HttpClient http)
    {
        try
        {
            return await http.GetFromJsonAsync<ConsoleSettings>("settings.json", new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? new ConsoleSettings(null);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            return new ConsoleSettings(null);
        }
    }
}
