// Seed 000 (geocoding_by_multiprocessing.py): Pool(POOL_SIZE).map(fetchPlace, PLACES). The Google Maps
// geocoder is replaced by an offline table with the article's answers, so the example runs anywhere.
import { Pool, isMainProcess } from 'forkscope';

const PLACES = ['Reykjavik', 'Vien', 'Zadar', 'Venice', 'Wrocow', 'Bolognia', 'Berlin', 'Dehil', 'New York', 'Osaka'];
const POOL_SIZE = 4;

interface Geocoded {
  formatted_address: string;
  geometry: { location: { lat: number; lng: number } };
}

const OFFLINE: Record<string, [string, number, number]> = {
  Reykjavik: ['Reykjavík, Iceland', 64.15, -21.94],
  Vien: ['3110 Glendale Blvd, Los Angeles, CA 90039, USA', 34.12, -118.26],
  Zadar: ['Zadar, Croatia', 44.12, 15.23],
  Venice: ['Venice, Metropolitan City of Venice, Italy', 45.44, 12.32],
  Wrocow: ['Wrocław, Poland', 51.11, 17.04],
  Bolognia: ['Bologna, Metropolitan City of Bologna, Italy', 44.49, 11.34],
  Berlin: ['Berlin, Germany', 52.52, 13.4],
  Dehil: ['Delhi, India', 28.7, 77.1],
  'New York': ['New York, NY, USA', 40.71, -74.01],
  Osaka: ['Osaka, Japan', 34.69, 135.5],
};

export function fetchPlace(place: string): Geocoded {
  const [address, lat, lng] = OFFLINE[place];
  return { formatted_address: address, geometry: { location: { lat, lng } } };
}

function presentResult(geocoded: Geocoded): void {
  const { lat, lng } = geocoded.geometry.location;
  console.log(`${geocoded.formatted_address}, ${lat.toFixed(2).padStart(6)}, ${lng.toFixed(2).padStart(6)}`);
}

async function main(): Promise<void> {
  let results: Geocoded[];
  {
    await using pool = new Pool(POOL_SIZE);
    results = await pool.map(fetchPlace, PLACES);
  }
  for (const result of results) presentResult(result);
}

if (isMainProcess()) void main();
