using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Client.Rights;

/// <summary>
/// A rights certificate as a JSON document: the proto3 JSON mapping of <see cref="RightCertificate"/>
/// (lowerCamelCase names, bytes in base64, 64-bit integers as strings), so that another registry reads
/// it with any protobuf library, or none.
/// </summary>
public static class RightCertificateFile
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default);

    /// <summary>The certificate as indented JSON, ending with a newline.</summary>
    public static string ToJson(RightCertificate certificate) => Formatter.Format(certificate) + "\n";

    /// <summary>The certificate in <paramref name="json"/>; a <see cref="FormatException"/> when it is not one.</summary>
    public static RightCertificate FromJson(string json)
    {
        try
        {
            return Parser.Parse<RightCertificate>(json);
        }
        catch (InvalidJsonException ex)
        {
            throw new FormatException($"not a rights certificate: {ex.Message}", ex);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException($"not a rights certificate: {ex.Message}", ex);
        }
    }
}
