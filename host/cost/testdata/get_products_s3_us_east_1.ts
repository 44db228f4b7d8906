/**
 * A GetProducts answer for ServiceCode "AmazonS3", region us-east-1: the `PriceList` array of
 * price-list JSON strings, as the AWS Price List Query API returns it.
 *
 * HANDWRITTEN in the documented format (product.sku, product.attributes with regionCode,
 * location, usagetype, volumeType; terms.OnDemand.<offer>.priceDimensions.<rateCode> with
 * unit, beginRange, endRange, pricePerUnit.USD as a string), not recorded from AWS. The SKUs
 * and rate codes are made up. Some prices deliberately differ from the shipped table so tests
 * can tell which table an estimate used (DEEP_ARCHIVE storage 0.00095, STANDARD PUT 0.0055).
 * It also holds what a real answer holds and the conversion must skip or refuse: a product of
 * another region, a usage type we do not price, a figure answered twice with two different
 * prices (Requests-Tier3: a lifecycle transition and a standard restore share it), and an
 * unprefixed us-east-1 usage type next to a "USE1-" prefixed one.
 */

interface Dimension {
  rate: string;
  unit: string;
  usd: string;
  begin?: string;
  end?: string;
  description: string;
}

function product(
  sku: string,
  family: string,
  attributes: Record<string, string>,
  dimensions: Dimension[],
): string {
  const offer = `${sku}.JRTCKXETXF`;
  return JSON.stringify({
    product: {
      productFamily: family,
      attributes: {
        servicecode: "AmazonS3",
        servicename: "Amazon Simple Storage Service",
        locationType: "AWS Region",
        ...attributes,
      },
      sku,
    },
    serviceCode: "AmazonS3",
    terms: {
      OnDemand: {
        [offer]: {
          priceDimensions: Object.fromEntries(dimensions.map((d) => [
            `${offer}.${d.rate}`,
            {
              unit: d.unit,
              endRange: d.end ?? "Inf",
              description: d.description,
              appliesTo: [],
              rateCode: `${offer}.${d.rate}`,
              beginRange: d.begin ?? "0",
              pricePerUnit: { USD: d.usd },
            },
          ])),
          sku,
          effectiveDate: "2026-11-01T00:00:00Z",
          offerTermCode: "JRTCKXETXF",
          termAttributes: {},
        },
      },
    },
    version: "20261101000000",
    publicationDate: "2026-11-01T00:00:00Z",
  });
}

const here = { regionCode: "us-east-1", location: "US East (N. Virginia)" };

function storage(sku: string, usagetype: string, volumeType: string, usd: string): string {
  return product(sku, "Storage", { ...here, usagetype, volumeType, storageClass: volumeType }, [
    { rate: "6YS6EN2CT7", unit: "GB-Mo", usd, description: `$${usd} per GB-Mo in ${volumeType}` },
  ]);
}

function requests(sku: string, usagetype: string, group: string, perRequest: string): string {
  return product(sku, "API Request", { ...here, usagetype, group, operation: "" }, [
    { rate: "CVDX3DSGDC", unit: "Requests", usd: perRequest, description: `${usagetype}` },
  ]);
}

function fee(sku: string, usagetype: string, volumeType: string, usd: string): string {
  return product(sku, "Fee", { ...here, usagetype, volumeType }, [
    { rate: "Q7E7QCDXVW", unit: "GB", usd, description: `$${usd} per GB ${usagetype}` },
  ]);
}

export const priceList: string[] = [
  // STANDARD storage: three bands, 50 TB and 450 TB (in GB), then the rest.
  product("SKU0STANDARD", "Storage", {
    ...here,
    usagetype: "TimedStorage-ByteHrs",
    volumeType: "Standard",
    storageClass: "General Purpose",
  }, [
    {
      rate: "PGHJ3S3EYE",
      unit: "GB-Mo",
      usd: "0.0230000000",
      begin: "0",
      end: "51200",
      description: "$0.023 per GB - first 50 TB / month of storage used",
    },
    {
      rate: "D42MF2PVJS",
      unit: "GB-Mo",
      usd: "0.0220000000",
      begin: "51200",
      end: "512000",
      description: "$0.022 per GB - next 450 TB / month of storage used",
    },
    {
      rate: "7RBBJBM4XJ",
      unit: "GB-Mo",
      usd: "0.0210000000",
      begin: "512000",
      end: "Inf",
      description: "$0.021 per GB - storage used / month over 500 TB",
    },
  ]),
  storage("SKU0SIA", "TimedStorage-SIA-ByteHrs", "Standard - Infrequent Access", "0.0125000000"),
  storage("SKU0GIR", "TimedStorage-GIR-ByteHrs", "Glacier Instant Retrieval", "0.0040000000"),
  storage("SKU0GLACIER", "TimedStorage-GlacierByteHrs", "Amazon Glacier", "0.0036000000"),
  storage("SKU0GDA", "USE1-TimedStorage-GDA-ByteHrs", "Glacier Deep Archive", "0.0009500000"),
  requests("SKU0REQT1", "Requests-Tier1", "S3-API-Tier1", "0.0000055000"),
  requests("SKU0REQT2", "Requests-Tier2", "S3-API-Tier2", "0.0000004000"),
  requests("SKU0SIAT1", "Requests-SIA-Tier1", "S3-API-SIA-Tier1", "0.0000100000"),
  requests("SKU0SIAT2", "Requests-SIA-Tier2", "S3-API-SIA-Tier2", "0.0000010000"),
  requests("SKU0GDAT1", "Requests-GDA-Tier1", "S3-API-GDA-Tier1", "0.0000500000"),
  requests("SKU0GDAT2", "Requests-GDA-Tier2", "S3-API-GDA-Tier2", "0.0000004000"),
  requests("SKU0GDAT3", "Requests-GDA-Tier3", "S3-API-GDA-Tier3", "0.0001000000"),
  requests("SKU0GDAT5", "Requests-GDA-Tier5", "S3-API-GDA-Tier5", "0.0000250000"),
  // Requests-Tier3 twice with two prices: the conversion must keep the shipped figure.
  requests("SKU0T3TRANS", "Requests-Tier3", "S3-API-Tier3", "0.0000300000"),
  requests("SKU0T3RESTORE", "Requests-Tier3", "S3-API-Tier3", "0.0000500000"),
  requests("SKU0T6", "Requests-Tier6", "S3-API-Tier6", "0.0100000000"),
  fee("SKU0RETSIA", "Retrieval-SIA", "Standard - Infrequent Access", "0.0100000000"),
  fee("SKU0RETGIR", "Retrieval-GIR", "Glacier Instant Retrieval", "0.0300000000"),
  fee("SKU0GDABULK", "Bulk-Retrieval-Bytes", "Glacier Deep Archive", "0.0025000000"),
  fee("SKU0GDASTD", "Standard-Retrieval-Bytes", "Glacier Deep Archive", "0.0200000000"),
  fee("SKU0GLEXP", "Expedited-Retrieval-Bytes", "Amazon Glacier", "0.0300000000"),
  // Not ours: another region, and a usage type the table has no figure for.
  product("SKU0OTHERREGION", "Storage", {
    regionCode: "eu-west-1",
    location: "EU (Ireland)",
    usagetype: "EU-TimedStorage-GDA-ByteHrs",
    volumeType: "Glacier Deep Archive",
  }, [{ rate: "AAAAAAAAAA", unit: "GB-Mo", usd: "0.0018000000", description: "other" }]),
  requests("SKU0INT", "Requests-INT-Tier1", "S3-API-INT-Tier1", "0.0000050000"),
];
