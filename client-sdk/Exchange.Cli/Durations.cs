using System.Globalization;

namespace Exchange.Cli;

/// <summary>Parses durations such as <c>90s</c>, <c>15m</c>, <c>8h</c>, <c>7d</c> or <c>01:30:00</c>, and writes them in the two largest units.</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var unit = text[^1];
        if (char.IsLetter(unit) &&
            double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            TimeSpan? parsed = unit switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            duration = parsed ?? default;
            return parsed is not null;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
    }

    /// <summary>E.g. <c>1d 6h</c>, <c>5h 3m</c>, <c>12m</c>, <c>40s</c>; a negative span is written with a minus.</summary>
    public static string Format(TimeSpan duration)
    {
        var sign = duration < TimeSpan.Zero ? "-" : "";
        var d = duration.Duration();
        var text = d.TotalDays >= 1 ? $"{(int)d.TotalDays}d {d.Hours}h"
            : d.TotalHours >= 1 ? $"{d.Hours}h {d.Minutes}m"
            : d.TotalMinutes >= 1 ? $"{d.Minutes}m"
            : $"{d.Seconds}s";
        return sign + text;
    }
}
